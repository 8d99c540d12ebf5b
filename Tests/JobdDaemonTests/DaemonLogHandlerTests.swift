import Logging
import Testing

@testable import JobdDaemon

/// `DaemonLogHandler`: quoting of logfmt and JSON values, and the shared level.
@Suite struct DaemonLogHandlerTests {
    @Test("logfmt values are bare when they can be, else quoted with escapes")
    func logfmtQuote() {
        #expect(DaemonLogHandler.logfmtQuote("ready") == "ready")
        #expect(DaemonLogHandler.logfmtQuote("") == "\"\"")
        #expect(DaemonLogHandler.logfmtQuote("job failed") == "\"job failed\"")
        #expect(DaemonLogHandler.logfmtQuote("a=b") == "\"a=b\"")
        #expect(DaemonLogHandler.logfmtQuote("say \"hi\"\\\n") == "\"say \\\"hi\\\"\\\\\\n\"")
    }

    @Test("JSON strings escape quotes, backslashes and control characters")
    func jsonQuote() {
        #expect(DaemonLogHandler.jsonQuote("plain") == "\"plain\"")
        #expect(DaemonLogHandler.jsonQuote("a\"b\\c\nd\te\r") == "\"a\\\"b\\\\c\\nd\\te\\r\"")
        #expect(DaemonLogHandler.jsonQuote("\u{1}") == "\"\\u0001\"")
    }

    @Test("the level follows the shared switch until a logger sets its own")
    func level() {
        let levels = LogLevelSwitch(.info)
        var handler = DaemonLogHandler(label: "test", format: .logfmt, level: levels)
        #expect(handler.logLevel == .info)
        levels.set(.debug)
        #expect(handler.logLevel == .debug)
        handler.logLevel = .error
        levels.set(.trace)
        #expect(handler.logLevel == .error)
    }

    @Test("every level maps to its sd-daemon priority prefix")
    func journalPriorities() {
        let expected: [(Logger.Level, String)] = [
            (.critical, "<2>"), (.error, "<3>"), (.warning, "<4>"), (.notice, "<5>"), (.info, "<6>"),
            (.debug, "<7>"), (.trace, "<7>"),
        ]
        for (level, prefix) in expected {
            #expect(DaemonLogHandler.journalPrefix(level) == prefix, "\(level)")
        }
    }

    @Test("a journal line has no ts; a plain line keeps it")
    func journalLine() {
        let metadata: Logger.Metadata = ["job.id": "17", "error.code": "timeout"]
        #expect(
            DaemonLogHandler.line(
                level: .error, message: "job failed", metadata: metadata, format: .logfmt, timestamp: nil)
                == "level=error msg=\"job failed\" error.code=timeout job.id=17")
        #expect(
            DaemonLogHandler.line(level: .info, message: "ready", metadata: [:], format: .logfmt, timestamp: "T")
                == "ts=T level=info msg=ready")
        #expect(
            DaemonLogHandler.line(level: .error, message: "x", metadata: ["a": "1"], format: .json, timestamp: nil)
                == #"{"level":"error","msg":"x","a":"1"}"#)
        #expect(
            DaemonLogHandler.line(level: .error, message: "x", metadata: [:], format: .json, timestamp: "T")
                == #"{"ts":"T","level":"error","msg":"x"}"#)
    }

    @Test("control characters cannot start a new journal entry or forge a prefix")
    func controlsEscaped() {
        let forged = "bad\n<2>level=critical msg=forged\r\u{1b}[31m\u{0}\u{2028}"
        for format in LogFormat.allCases {
            let line = DaemonLogHandler.line(
                level: .info, message: forged, metadata: ["value": .string(forged), "key\n<3>": "v"],
                format: format, timestamp: nil)
            #expect(!line.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x2028 }, "\(format): \(line)")
            #expect(line.hasPrefix(format == .json ? "{\"level\":\"info\"" : "level=info "))
        }
        #expect(DaemonLogHandler.logfmtQuote("a\rb") == #""a\rb""#)
        #expect(DaemonLogHandler.logfmtQuote("a\u{1b}b") == #""a\x1bb""#)
        #expect(DaemonLogHandler.logfmtQuote("tab\there") == #""tab\there""#)
        #expect(DaemonLogHandler.escapeControls("k\n") == #"k\n"#)
        #expect(DaemonLogHandler.jsonQuote("a\u{2028}\u{7f}") == #""a\u2028\u007f""#)
    }

    @Test("JOURNAL_STREAM counts only when it names stderr's device and inode")
    func journalStream() {
        #expect(JournalStream.matches("8:1234", device: 8, inode: 1234))
        #expect(!JournalStream.matches("8:1235", device: 8, inode: 1234))
        #expect(!JournalStream.matches(nil, device: 8, inode: 1234))
        #expect(!JournalStream.matches("8:1234:5", device: 8, inode: 1234))
        #expect(!JournalStream.matches("x:1234", device: 8, inode: 1234))
        #expect(!JournalStream.isStandardError(environment: ["JOURNAL_STREAM": "0:0"]))
    }
}
