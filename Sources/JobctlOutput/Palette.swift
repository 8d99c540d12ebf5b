import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Whether and how `jobctl` colours what it prints.
///
/// Colour is on only for a terminal: the stream is a TTY, `TERM` is not `dumb`, and
/// `NO_COLOR` is unset or empty (https://no-color.org). Pipes, files and `--json` output
/// never carry escape codes. Only states and the `error:` prefix are coloured, never
/// text that came from a job.
public struct Palette: Sendable, Hashable {
    /// True when escape codes are written.
    public var isEnabled: Bool

    /// A palette that is on or off.
    public init(isEnabled: Bool) {
        self.isEnabled = isEnabled
    }

    /// The palette for a stream, from the rules above.
    ///
    /// - Parameters:
    ///   - isTerminal: Whether the stream is a TTY.
    ///   - environment: The process environment (`NO_COLOR`, `TERM`).
    public init(isTerminal: Bool, environment: [String: String]) {
        let noColor = environment["NO_COLOR"].map { !$0.isEmpty } ?? false
        isEnabled = isTerminal && !noColor && environment["TERM"] != "dumb"
    }

    /// The palette for stdout.
    public static var standardOutput: Palette {
        Palette(isTerminal: isatty(STDOUT_FILENO) == 1, environment: ProcessInfo.processInfo.environment)
    }

    /// The palette for stderr.
    public static var standardError: Palette {
        Palette(isTerminal: isatty(STDERR_FILENO) == 1, environment: ProcessInfo.processInfo.environment)
    }

    /// The SGR code of a job or batch state's name, or nil for one shown plain.
    static func code(ofState state: String) -> String? {
        switch state {
        case "succeeded", "completed": "32"  // green
        case "failed", "dependency_failed": "31"  // red
        case "cancelled": "33"  // yellow
        case "running": "36"  // cyan
        default: nil
        }
    }

    /// A state's name, coloured when the palette is on.
    ///
    /// - Parameter state: The state's wire name (`succeeded`, `failed`, …).
    /// - Returns: The name, wrapped in an SGR sequence for the states that have a colour.
    public func state(_ state: String) -> String {
        guard isEnabled, let code = Self.code(ofState: state) else { return state }
        return "\u{1B}[\(code)m\(state)\u{1B}[0m"
    }

    /// An `error: …` line with its prefix in bold red when the palette is on.
    ///
    /// - Parameter line: The line; only a leading `error:` is coloured.
    /// - Returns: The line.
    public func errorLine(_ line: String) -> String {
        guard isEnabled, line.hasPrefix("error:") else { return line }
        return "\u{1B}[1;31merror:\u{1B}[0m" + line.dropFirst("error:".count)
    }
}
