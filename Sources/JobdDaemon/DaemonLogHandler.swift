import Foundation
import JobdModel
import Logging
import Synchronization

/// A swift-log handler that writes one line per message to stderr, as logfmt or JSON.
///
/// logfmt: `ts=2026-11-25T14:25:04.123Z level=info msg="job failed" job.id=17 error.code=timeout`.
/// JSON: `{"ts":"2026-11-25T14:25:04.123Z","level":"info","msg":"job failed","job.id":"17",…}`.
/// logfmt stays greppable, JSON feeds log shippers.
///
/// When stderr is the journal (`JournalStream`), each line starts with its sd-daemon
/// priority (`<3>` for an error: `journalctl -p err` finds it) and has no `ts`, since
/// journald stamps every entry. Control characters in the message, the keys and the
/// values are always escaped, so a logged value can neither start a new line (a new
/// journal entry) nor forge a priority or a field.
///
/// The level comes from a shared `LogLevelSwitch` (SIGHUP changes it for every logger),
/// unless code sets `logLevel` on one logger, which then keeps its own.
struct DaemonLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    let label: String
    let format: LogFormat
    let levelSwitch: LogLevelSwitch
    /// True when stderr is the journal: lines get a `<N>` priority prefix.
    let isJournal: Bool
    private var levelOverride: Logger.Level?

    /// Serializes whole lines, so lines of concurrent tasks never interleave.
    private static let lock = Mutex(())

    /// Makes a handler for the logger `label`.
    init(label: String, format: LogFormat, level: LogLevelSwitch, isJournal: Bool = false) {
        self.label = label
        self.format = format
        self.levelSwitch = level
        self.isJournal = isJournal
    }

    var logLevel: Logger.Level {
        get { levelOverride ?? levelSwitch.current }
        set { levelOverride = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let line = Self.line(
            level: event.level, message: "\(event.message)", metadata: merged, format: format,
            timestamp: isJournal ? nil : RFC3339.string(from: Date()))
        let data = Data(((isJournal ? Self.journalPrefix(event.level) : "") + line + "\n").utf8)
        Self.lock.withLock { _ in
            FileHandle.standardError.write(data)
        }
    }

    /// One log line without its newline, in `format`; `ts` only when `timestamp` is given.
    static func line(
        level: Logger.Level, message: String, metadata: Logger.Metadata, format: LogFormat, timestamp: String?
    ) -> String {
        switch format {
        case .logfmt:
            var text = timestamp.map { "ts=\(logfmtQuote($0)) " } ?? ""
            text += "level=\(level) msg=\(logfmtQuote(message))"
            for key in metadata.keys.sorted() {
                text += " \(escapeControls(key))=\(logfmtQuote("\(metadata[key]!)"))"
            }
            return text
        case .json:
            var text = "{"
            if let timestamp { text += "\"ts\":\(jsonQuote(timestamp))," }
            text += "\"level\":\(jsonQuote("\(level)")),\"msg\":\(jsonQuote(message))"
            for key in metadata.keys.sorted() where !["ts", "level", "msg"].contains(key) {
                text += ",\(jsonQuote(key)):\(jsonQuote("\(metadata[key]!)"))"
            }
            return text + "}"
        }
    }

    /// The sd-daemon(3) priority prefix journald reads from the start of a stream line:
    /// `<2>` critical, `<3>` error, `<4>` warning, `<5>` notice, `<6>` info, `<7>` debug
    /// and trace (syslog has no trace).
    static func journalPrefix(_ level: Logger.Level) -> String {
        switch level {
        case .critical: "<2>"
        case .error: "<3>"
        case .warning: "<4>"
        case .notice: "<5>"
        case .info: "<6>"
        case .debug, .trace: "<7>"
        }
    }

    /// A logfmt value: bare when it can be, else quoted with `\"` and `\\` escaped;
    /// control characters are escaped either way (`\n`, `\r`, `\t`, else `\xNN`).
    static func logfmtQuote(_ value: String) -> String {
        let needsQuotes =
            value.isEmpty || value.unicodeScalars.contains { $0 == " " || $0 == "=" || $0 == "\"" || isControl($0) }
        guard needsQuotes else { return value }
        let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return "\"\(escapeControls(escaped))\""
    }

    /// `text` with its control characters (C0, DEL, C1, and the Unicode line and paragraph
    /// separators) escaped, so it stays on one line.
    static func escapeControls(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where isControl(scalar):
                out +=
                    scalar.value <= 0xFF
                    ? "\\x" + String(format: "%02x", scalar.value) : "\\u{" + String(scalar.value, radix: 16) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029
    }

    /// A JSON string literal; beyond JSON's own escapes, DEL, C1 and the Unicode line
    /// separators are escaped too (`\u2028`), as in logfmt.
    static func jsonQuote(_ value: String) -> String {
        let quoted = JSONText.string(value)
        guard quoted.unicodeScalars.contains(where: isControl) else { return quoted }
        var out = ""
        for scalar in quoted.unicodeScalars {
            if isControl(scalar) {
                out += "\\u" + String(format: "%04x", scalar.value)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
