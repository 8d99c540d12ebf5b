import Foundation

/// The one-line progress display of `jobctl wait` and `gather`, as a pure function.
///
/// `[##########··········]  250/500  failed 3  84.1/s  ETA 3s`: the bar, done/total
/// (done padded to total's width so the line keeps its layout), then the failures when
/// there are any, the rate and the estimated time left when they are known.
enum ProgressBar {
    /// The bar's width in cells when the terminal has room (20).
    static let barCells = 20
    /// The narrowest bar drawn; below it the bar is left out (8).
    static let minimumBarCells = 8

    /// Renders the progress line.
    ///
    /// The line always fits in `width - 1` columns, so that the terminal never wraps it
    /// (a wrapped line could not be redrawn in place): the bar shrinks, then goes, then
    /// the text is cut.
    ///
    /// - Parameters:
    ///   - done: Jobs finished.
    ///   - total: Jobs in all; 0 shows a full bar.
    ///   - failed: Finished jobs that failed or were cancelled; shown when above 0.
    ///   - rate: Jobs finished per second, or nil when not known yet.
    ///   - eta: Seconds until all are finished, or nil when not known; not shown once
    ///     all are done.
    ///   - width: The terminal's width in columns.
    /// - Returns: The line, without `\r` or a newline.
    static func render(done: Int, total: Int, failed: Int, rate: Double?, eta: Double?, width: Int) -> String {
        let done = min(max(done, 0), max(total, 0))
        let countWidth = String(max(total, 0)).count
        let doneText = String(done)
        var parts = [
            String(repeating: " ", count: max(0, countWidth - doneText.count)) + doneText + "/\(max(total, 0))"
        ]
        if failed > 0 {
            parts.append("failed \(failed)")
        }
        if let rate, rate.isFinite, rate >= 0 {
            parts.append(rateText(rate) + "/s")
        }
        if let eta, eta.isFinite, done < total {
            parts.append("ETA " + HumanFormat.seconds(max(0, eta).rounded(.up)))
        }
        let text = parts.joined(separator: "  ")
        let room = max(0, width - 1)
        // "[" + cells + "]" + two spaces before the text.
        let cells = min(barCells, room - text.count - 4)
        guard cells >= minimumBarCells else {
            return String(text.prefix(room))
        }
        let filled = total > 0 ? done * cells / total : cells
        let bar = "[" + String(repeating: "#", count: filled) + String(repeating: "·", count: cells - filled) + "]"
        return bar + "  " + text
    }

    /// A rate with one decimal below 1000 (`84.1`, `0.5`), whole above (`1234`).
    static func rateText(_ rate: Double) -> String {
        rate < 999.95 ? String(format: "%.1f", rate) : String(Int(rate.rounded()))
    }
}
