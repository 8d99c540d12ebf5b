import Logging
import Testing

@testable import JobdDaemon

/// `WriterHangHook.armed(by:…)`: the test hook's variable.
@Suite struct WriterHangHookTests {
    @Test("unset or empty leaves the hook off; after:DURATION arms it")
    func armed() throws {
        let logger = Logger(label: "test")
        #expect(try WriterHangHook.armed(by: [:], hangWriter: {}, notifier: nil, logger: logger) == nil)
        #expect(
            try WriterHangHook.armed(
                by: ["JOBD_TEST_HANG_WRITER": ""], hangWriter: {}, notifier: nil, logger: logger) == nil)
        let hook = try #require(
            try WriterHangHook.armed(
                by: ["JOBD_TEST_HANG_WRITER": "after:250ms"], hangWriter: {}, notifier: nil, logger: logger))
        #expect(hook.delay == .milliseconds(250))
    }

    @Test("any other value is a configuration error naming the variable")
    func refused() throws {
        let error = try #require(throws: ConfigurationError.self) {
            try WriterHangHook.armed(
                by: ["JOBD_TEST_HANG_WRITER": "soon"], hangWriter: {}, notifier: nil, logger: Logger(label: "test"))
        }
        #expect(error.exitStatus == .badConfiguration)
        #expect(
            "\(error)"
                == "invalid configuration: JOBD_TEST_HANG_WRITER: must be after:DURATION (like after:1s), got soon "
                + "(in JOBD_TEST_HANG_WRITER)")
    }
}
