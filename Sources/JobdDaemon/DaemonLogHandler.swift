import Foundation
import JobdModel
import Logging
import Synchronization

/// A swift-log handler that writes one line per message to stderr, as logfmt or JSON.
///
/// logfmt: `ts=2026-11-25T14:25:04.123Z level=info msg="job failed" job.id=17 error.code=timeout`.
/// JSON: `{"ts":"2026-11-25T14:25:04.123Z","level":"info","msg":"job failed","job.id":"17",…}`.
/// journald keeps stderr; logfmt stays greppable, JSON feeds log shippers.
///
/// The level comes from a shared `LogLevelSwitch` (SIGHUP changes it for every logger),
/// unless code sets `logLevel` on one logger, which then keeps its own.
struct DaemonLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    let label: String
    let format: LogFormat
    let levelSwitch: LogLevelSwitch
    private var levelOverride: Logger.Level?

    /// Serializes whole lines, so lines of concurrent tasks never interleave.
    private static let lock = Mutex(())

    /// Makes a handler for the logger `label`.
    init(label: String, format: LogFormat, level: LogLevelSwitch) {
        self.label = label
        self.format = format
        self.levelSwitch = level
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
        let timestamp = RFC3339.string(from: Date())
        let line: String
        switch format {
        case .logfmt:
            var text =
                "ts=\(Self.logfmtQuote(timestamp)) level=\(event.level) msg=\(Self.logfmtQuote("\(event.message)"))"
            for key in merged.keys.sorted() {
                text += " \(key)=\(Self.logfmtQuote("\(merged[key]!)"))"
            }
            line = text
        case .json:
            var text = "{\"ts\":\(Self.jsonQuote(timestamp)),\"level\":\(Self.jsonQuote("\(event.level)"))"
            text += ",\"msg\":\(Self.jsonQuote("\(event.message)"))"
            for key in merged.keys.sorted() where !["ts", "level", "msg"].contains(key) {
                text += ",\(Self.jsonQuote(key)):\(Self.jsonQuote("\(merged[key]!)"))"
            }
            line = text + "}"
        }
        let data = Data((line + "\n").utf8)
        Self.lock.withLock { _ in
            FileHandle.standardError.write(data)
        }
    }

    /// A logfmt value: bare when it can be, else quoted with `\"`, `\\` and `\n` escaped.
    static func logfmtQuote(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.contains { $0 == " " || $0 == "=" || $0 == "\"" || $0.isNewline }
        guard needsQuotes else { return value }
        var escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        escaped = escaped.replacingOccurrences(of: "\n", with: "\\n")
        return "\"\(escaped)\""
    }

    /// A JSON string literal.
    static func jsonQuote(_ value: String) -> String { JSONText.string(value) }
}
