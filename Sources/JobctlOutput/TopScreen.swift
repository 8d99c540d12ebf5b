import Foundation
import JobdModel

/// The lines `jobctl top` draws for a model, at a terminal size: exactly `height` lines,
/// none wider than `width` characters, with nothing from a job that could move the cursor
/// (control characters in URLs, messages and errors show as `?`).
public struct TopScreen: Sendable {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = max(20, width)
        self.height = max(8, height)
    }

    /// The eight block heights of a sparkline, lowest first.
    static let blocks: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    /// A sparkline of `values` scaled to their maximum (all lowest blocks when all are 0).
    public static func sparkline(_ values: [Int]) -> String {
        let top = max(1, values.max() ?? 0)
        return String(
            values.map { value in
                value == 0 ? blocks[0] : blocks[min(7, max(1, Int((Double(value) / Double(top) * 7).rounded())))]
            })
    }

    /// The main view.
    public func lines(_ model: TopModel, now: Date) -> [String] {
        var lines: [String] = []
        let stats = model.stats
        let state = stats.map { $0.paused ? "PAUSED" : "dispatching" } ?? "connecting"
        lines.append(
            "jobd top  \(model.socketPath)  workers \(stats.map { String($0.workers) } ?? "-")  \(state)  "
                + HumanFormat.timeOfDay(now).prefix(8))
        if let stats {
            lines.append(
                "waiting \(stats.waiting)  queued \(stats.queued)  running \(stats.running)  succeeded \(stats.succeeded)"
                    + "  failed \(stats.failed)  cancelled \(stats.cancelled)")
        } else {
            lines.append("waiting -  queued -  running -  succeeded -  failed -  cancelled -")
        }
        let spark = max(10, min(TopModel.window, width - 34))
        let throughput = model.throughput(now: now)
        let failed = model.failuresPerSecond(now: now)
        let finishedLastMinute = throughput.reduce(0, +)
        let failedLastMinute = failed.reduce(0, +)
        let rate = finishedLastMinute == 0 ? 0 : Double(failedLastMinute) / Double(finishedLastMinute) * 100
        lines.append(
            "throughput  " + Self.sparkline(Array(throughput.suffix(spark)))
                + "  \(throughput.last ?? 0)/s, \(finishedLastMinute)/min")
        lines.append(
            "failures    " + Self.sparkline(Array(failed.suffix(spark)))
                + "  \(failedLastMinute)/min, \(HumanFormat.trimmedDecimal(rate, digits: 1)) %")
        let depth = model.queueDepth(now: now)
        lines.append("queue       " + Self.sparkline(Array(depth.suffix(spark))) + "  \(depth.last ?? 0) queued")
        lines.append(hostsLine(stats))
        let listHeight = height - lines.count - 1
        lines += lists(model, height: listHeight, now: now)
        lines.append(model.notice.map { "! " + $0 } ?? "q quit  p pause/resume  f filter  ↑↓ select  ⏎ detail")
        return fit(lines)
    }

    /// The detail view of one job: `jobctl status`'s fields.
    public func detailLines(_ record: JobRecord?, id: JobID, error: String?) -> [String] {
        var lines = ["job \(id)  (Esc or q: back)"]
        if let error {
            lines.append("error: \(error)")
        } else if let record {
            lines += TextTable.jobFields(record).lines()
        } else {
            lines.append("loading…")
        }
        return fit(lines)
    }

    private func hostsLine(_ stats: StatsResponse?) -> String {
        guard let hosts = stats?.hosts, !hosts.isEmpty else {
            return "hosts       none fetching, rate-limited \(stats?.rateLimited ?? 0)"
        }
        return "hosts       "
            + hosts.map {
                "\($0.host) \($0.running) running" + ($0.rateLimited > 0 ? " \($0.rateLimited) waiting" : "")
            }
            .joined(separator: " | ")
    }

    private func lists(_ model: TopModel, height: Int, now: Date) -> [String] {
        let running = model.runningRows
        let failures = model.failureRows
        var runningHeight = 0
        var failureHeight = 0
        switch model.filter {
        case .runningOnly: runningHeight = height
        case .failuresOnly: failureHeight = height
        default:
            failureHeight = min(max(2, failures.count + 1), max(2, height / 3))
            runningHeight = height - failureHeight
        }
        var lines: [String] = []
        if runningHeight > 0 {
            lines.append(rule("running \(running.count), filter: \(model.filter.label)"))
            lines.append("  " + Self.columns(["ID", "KIND", "ATTEMPT", "FOR", "TARGET"]))
            let visible = max(0, runningHeight - 2)
            let first = model.filter == .failuresOnly ? 0 : max(0, model.selection - visible + 1)
            for (index, job) in running.enumerated().dropFirst(first).prefix(visible) {
                let marker = index == model.selection && model.filter != .failuresOnly ? "> " : "  "
                let runningFor = HumanFormat.seconds(max(0, now.timeIntervalSince(job.startedAt)).rounded(.down))
                lines.append(
                    marker
                        + Self.columns([
                            "\(job.id)", job.kind?.rawValue ?? "…", "\(job.attempt)", runningFor, job.target ?? "",
                        ]))
            }
            while lines.count < runningHeight { lines.append("") }
        }
        if failureHeight > 0 {
            lines.append(rule("latest failures"))
            let visible = max(0, failureHeight - 1)
            let first = model.filter == .failuresOnly ? max(0, model.selection - visible + 1) : 0
            for (index, failure) in failures.enumerated().dropFirst(first).prefix(visible) {
                let marker = index == model.selection && model.filter == .failuresOnly ? "> " : "  "
                let final = failure.isFinal ? "" : " (will retry)"
                lines.append(
                    marker + HumanFormat.timeOfDay(failure.time).prefix(8)
                        + "  job \(failure.id)  \(failure.code)\(final)  \(failure.message)")
            }
            while lines.count < runningHeight + failureHeight { lines.append("") }
        }
        return lines
    }

    /// The running table's cells, padded to its column widths (the last one is not).
    static func columns(_ cells: [String]) -> String {
        let widths = [9, 6, 7, 8]
        return cells.enumerated().map { index, cell in
            index < widths.count
                ? cell.padding(toLength: max(widths[index], cell.count), withPad: " ", startingAt: 0) : cell
        }.joined(separator: " ")
    }

    private func rule(_ title: String) -> String {
        let head = "── \(title) "
        return head + String(repeating: "─", count: max(0, width - head.count))
    }

    /// C0 and C1 control characters and DEL: what could move the cursor or start an
    /// escape sequence.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 32 || (0x7F...0x9F).contains(scalar.value)
    }

    /// Exactly `height` lines of at most `width` characters, control characters shown as `?`.
    func fit(_ lines: [String]) -> [String] {
        var fitted = lines.prefix(height).map { line in
            String(String(line.unicodeScalars.map { Self.isControl($0) ? "?" : Character($0) }).prefix(width))
        }
        while fitted.count < height { fitted.append("") }
        return fitted
    }
}
