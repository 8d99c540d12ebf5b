import Foundation
import JobdClient
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The progress of `wait` and `gather` on stderr.
///
/// On a terminal (and `TERM` not `dumb`): one line redrawn in place at most every
/// `refreshInterval`, cleared by `finish()`. Otherwise (a log file, a CI job): a plain
/// line at most every `plainInterval`, never redrawn, so long waits still show signs of
/// life; stdout is never touched. Its small state is behind a `Mutex`, so the display can
/// be handed to the task that waits.
public final class ProgressDisplay: Sendable {
    /// The shortest time between two redraws (100 ms: 10 a second).
    ///
    /// Also the interval at which to call `update(_:)` while nothing finishes, so that
    /// the rate and the ETA stay current.
    public static let refreshInterval: Duration = .milliseconds(100)
    /// The shortest time between two plain lines when stderr is not a terminal.
    static let plainInterval: Duration = .seconds(2)
    /// Back to the start of the line, then erase it.
    static let clearLine = "\r\u{1B}[2K"

    private struct State {
        var lastDraw: ContinuousClock.Instant?
        var lastLine: String?
    }

    private let start: ContinuousClock.Instant
    private let state = Mutex(State())
    /// True: redraw one line in place; false: print plain lines.
    private let isTerminal: Bool

    private init(isTerminal: Bool) {
        start = ContinuousClock.now
        self.isTerminal = isTerminal
    }

    /// A display on stderr: a redrawn bar on a terminal, plain lines otherwise.
    ///
    /// Stderr counts as a terminal when `isatty` says so and `TERM` is not `dumb`.
    ///
    /// - Returns: The display, drawing nothing until the first `update(_:)`.
    public static func forStandardError() -> ProgressDisplay? {
        let terminal = isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
        return ProgressDisplay(isTerminal: terminal)
    }

    /// Redraws the line for `progress`, unless the last redraw was too recent.
    ///
    /// The rate is jobs finished per second since the display was made; it and the
    /// ETA show once half a second has passed. Safe to call from any task.
    ///
    /// - Parameter progress: How far the wait has come.
    public func update(_ progress: WaitProgress) {
        let now = ContinuousClock.now
        let elapsed = HumanFormat.secondsValue(now - start)
        let rate = elapsed >= 0.5 && progress.done > 0 ? Double(progress.done) / elapsed : nil
        let eta = rate.map { Double(progress.total - progress.done) / $0 }
        guard isTerminal else {
            state.withLock { state in
                // The first line only after one interval: quick waits print nothing.
                let last = state.lastDraw ?? start
                guard now - last >= Self.plainInterval, progress.done < progress.total else { return }
                state.lastDraw = now
                var line = "progress: \(progress.done)/\(progress.total) done, \(progress.failed) failed"
                if let rate { line += String(format: ", %.1f/s", rate) }
                if let eta { line += ", ETA \(HumanFormat.seconds(eta))" }
                Self.write(line + "\n")
            }
            return
        }
        state.withLock { state in
            if let lastDraw = state.lastDraw, now - lastDraw < Self.refreshInterval {
                return
            }
            let line = ProgressBar.render(
                done: progress.done, total: progress.total, failed: progress.failed, rate: rate, eta: eta,
                width: Self.terminalWidth())
            state.lastDraw = now
            guard line != state.lastLine else { return }
            state.lastLine = line
            // Written under the lock so that a concurrent finish() cannot be overtaken.
            Self.write(Self.clearLine + line)
        }
    }

    /// Clears the line, if one was drawn.
    ///
    /// Call it before anything else is written to the terminal; plain lines are left as
    /// they are.
    public func finish() {
        guard isTerminal else { return }
        state.withLock { state in
            guard state.lastLine != nil else { return }
            state.lastLine = nil
            Self.write(Self.clearLine)
        }
    }

    private static func write(_ text: String) {
        // A small write to a terminal: fine on the cooperative pool.
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// The width of the terminal on stderr; 80 when it cannot be read.
    private static func terminalWidth() -> Int {
        var size = winsize()
        guard ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }
}
