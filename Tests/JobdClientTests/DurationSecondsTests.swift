import Testing

@testable import JobdClient

@Suite("Duration+Seconds")
struct DurationSecondsTests {
    @Test("durations become timeout parameters in whole or decimal seconds")
    func parameters() {
        #expect(Duration.seconds(60).timeoutParameter == "60")
        #expect(Duration.zero.timeoutParameter == "0")
        #expect(Duration.milliseconds(500).timeoutParameter == "0.5")
        #expect(Duration.microseconds(1_234_100).timeoutParameter == "1.235")
        #expect(Duration.seconds(-3).timeoutParameter == "0")
    }
}
