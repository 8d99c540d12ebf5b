import Foundation
import JobdModel

/// Formatting of times, durations, sizes, job summaries, events and the daemon's health
/// for human-readable output.
///
/// Pure functions, so `jobctl`'s tables and messages can be tested without a daemon.
public enum HumanFormat {
    /// Formats a date as local time `yyyy-MM-dd HH:mm:ss`.
    ///
    /// - Parameters:
    ///   - date: The time to format.
    ///   - timeZone: The zone to show it in; the process's zone by default.
    /// - Returns: For example `2026-11-25 15:25:04`.
    static func date(_ date: Date, timeZone: TimeZone = .current) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func pad(_ value: Int?, _ width: Int) -> String {
            let text = String(value ?? 0)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.year, 4))-\(pad(parts.month, 2))-\(pad(parts.day, 2)) "
            + "\(pad(parts.hour, 2)):\(pad(parts.minute, 2)):\(pad(parts.second, 2))"
    }

    /// Formats an optional date, `-` when there is none.
    ///
    /// - Parameters:
    ///   - date: The time to format, or nil.
    ///   - timeZone: The zone to show it in.
    /// - Returns: `date(_:timeZone:)`'s text, or `-`.
    static func date(_ date: Date?, timeZone: TimeZone = .current) -> String {
        guard let date else { return "-" }
        return Self.date(date, timeZone: timeZone)
    }

    /// Formats the time of day of a date with milliseconds, `HH:mm:ss.SSS`.
    ///
    /// - Parameters:
    ///   - date: The time to format.
    ///   - timeZone: The zone to show it in; the process's zone by default.
    /// - Returns: For example `15:25:04.123`.
    static func timeOfDay(_ date: Date, timeZone: TimeZone = .current) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        // Round to whole milliseconds first (a decoded .123 may be .12299…), then split.
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        var (seconds, fraction) = milliseconds.quotientAndRemainder(dividingBy: 1000)
        if fraction < 0 {
            seconds -= 1
            fraction += 1000
        }
        let parts = calendar.dateComponents(
            [.hour, .minute, .second], from: Date(timeIntervalSince1970: Double(seconds)))
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.hour ?? 0, 2)):\(pad(parts.minute ?? 0, 2)):\(pad(parts.second ?? 0, 2))."
            + pad(Int(fraction), 3)
    }

    /// The width of the job column of `event(_:timeZone:)` (`job 123456`).
    static let eventJobWidth = 10
    /// The width of the type column of `event(_:timeZone:)`, the longest type's.
    /// The width of `retry_scheduled`, the longest type of an attempt's events; the rarer
    /// longer ones (`dependency_failed`) push their details two columns on, so a watcher's
    /// columns stay where scripts and eyes expect them.
    static let eventTypeWidth = JobEventType.retryScheduled.rawValue.count

    /// One aligned line for a job event, as `jobctl watch` prints it.
    ///
    /// `15:25:04.123  job 5       started          attempt 1`: the local time, the job,
    /// the event type, then what the event carries: the attempt, the error as
    /// `code: message`, and for `retry_scheduled` the time of the next attempt.
    ///
    /// - Parameters:
    ///   - event: The event.
    ///   - timeZone: The zone to show times in.
    /// - Returns: The line, without a newline and without trailing spaces.
    public static func event(_ event: JobEvent, timeZone: TimeZone = .current) -> String {
        func padded(_ text: String, _ width: Int) -> String {
            text + String(repeating: " ", count: max(0, width - text.count))
        }
        var details: [String] = []
        if let attempt = event.attempt {
            details.append("attempt \(attempt)")
        }
        if let error = event.error {
            let message = error.message.split(whereSeparator: \.isNewline).joined(separator: " ")
            details.append("\(error.code): \(message)")
        }
        if event.type == .retryScheduled, let runAt = event.runAt {
            details.append("at " + timeOfDay(runAt, timeZone: timeZone))
        }
        // A batch's event names the batch first, then its on_complete job.
        var subject = event.jobID.map { "job \($0)" } ?? "-"
        if let batch = event.batchID {
            subject = "batch \(batch)"
            if let state = event.state { details.append(state.rawValue) }
            if let job = event.jobID { details.append("on_complete job \(job) queued") }
        }
        var line = timeOfDay(event.time, timeZone: timeZone) + "  "
        line += padded(subject, eventJobWidth) + "  "
        line += padded(event.type.rawValue, eventTypeWidth) + "  "
        line += details.joined(separator: "  ")
        while line.hasSuffix(" ") { line.removeLast() }
        return line
    }

    /// Ids as ranges of consecutive ones: `31-33, 40`.
    static func idList(_ ids: [JobID]) -> String {
        var parts: [String] = []
        var index = 0
        while index < ids.count {
            var end = index
            while end + 1 < ids.count, ids[end + 1].rawValue == ids[end].rawValue + 1 { end += 1 }
            parts.append(end == index ? "\(ids[index])" : "\(ids[index])-\(ids[end])")
            index = end + 1
        }
        return parts.joined(separator: ", ")
    }

    /// Formats a number of seconds compactly: `0.25s`, `1.5s`, `12s`, `5m 3s`, `2h 1m`, `3d 4h`.
    ///
    /// Below a minute, up to two decimals are kept; from a minute on, the two largest
    /// units, rounded down.
    ///
    /// - Parameter seconds: A duration in seconds; negative values count as 0.
    /// - Returns: The text.
    public static func seconds(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "-" }
        let seconds = max(0, seconds)
        if seconds < 60 {
            return trimmedDecimal(seconds, digits: 2) + "s"
        }
        let whole = Int(seconds)
        let (days, hours, minutes, rest) = (whole / 86_400, whole % 86_400 / 3600, whole % 3600 / 60, whole % 60)
        if days > 0 { return hours > 0 ? "\(days)d \(hours)h" : "\(days)d" }
        if hours > 0 { return minutes > 0 ? "\(hours)h \(minutes)m" : "\(hours)h" }
        return rest > 0 ? "\(minutes)m \(rest)s" : "\(minutes)m"
    }

    /// Formats a `Duration` compactly, as `seconds(_:)` does.
    ///
    /// - Parameter duration: The duration.
    /// - Returns: The text, such as `30s`.
    static func seconds(_ duration: Duration) -> String {
        seconds(secondsValue(duration))
    }

    /// Formats a byte count: `512 B`, `1.5 KiB`, `10 MiB`.
    ///
    /// - Parameter bytes: The size in bytes.
    /// - Returns: The text, with at most one decimal.
    public static func bytes(_ bytes: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : "\(trimmedDecimal(value, digits: 1)) \(units[unit])"
    }

    /// Formats milliseconds: `12 ms`, `1.5 s`.
    ///
    /// - Parameter milliseconds: The duration in milliseconds.
    /// - Returns: The text.
    static func milliseconds(_ milliseconds: Double) -> String {
        milliseconds < 1000
            ? "\(trimmedDecimal(milliseconds, digits: 1)) ms"
            : "\(trimmedDecimal(milliseconds / 1000, digits: 2)) s"
    }

    /// A one-line description of what a job does: its URL, or `delay 1.5s`.
    ///
    /// - Parameter spec: The job's spec.
    /// - Returns: The fetch URL, or `delay <seconds>` with ` (fails)` when the delay
    ///   has a `fail` message.
    public static func summary(_ spec: JobSpec) -> String {
        switch spec.payload {
        case .fetch(let fetch):
            return fetch.url
        case .delay(let delay):
            return "delay \(seconds(delay.seconds))" + (delay.fail == nil ? "" : " (fails)")
        }
    }

    /// The line `jobctl health` prints.
    ///
    /// - Parameter health: The daemon's answer.
    /// - Returns: `<status>: jobd <version>, pid <pid>, up <uptime>, database <path>`,
    ///   the uptime in whole seconds, as `seconds(_:)` formats them.
    public static func health(_ health: HealthResponse) -> String {
        "\(health.status): jobd \(health.version), pid \(health.pid), "
            + "up \(seconds(health.uptimeSeconds.rounded(.down))), database \(health.database)"
    }

    /// A duration as a number of seconds.
    ///
    /// - Parameter duration: The duration.
    /// - Returns: Its length in seconds, fractions included.
    static func secondsValue(_ duration: Duration) -> Double {
        duration.secondsValue
    }

    /// `value` with at most `digits` decimals and no trailing zeros: `1.5`, `2`, `0.25`.
    static func trimmedDecimal(_ value: Double, digits: Int) -> String {
        var text = String(format: "%.\(digits)f", value)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text
    }
}
