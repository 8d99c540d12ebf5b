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
}
