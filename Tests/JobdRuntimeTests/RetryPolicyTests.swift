import JobdRuntime
import Testing

@Suite struct RetryPolicyTests {
    @Test("the retry delay doubles per attempt up to the cap, scaled by the jitter")
    func backoff() {
        let options = RuntimeOptions(retryBase: .seconds(1), retryCap: .seconds(10))
        #expect(options.retryDelay(afterAttempt: 1, random: 1) == .seconds(1))
        #expect(options.retryDelay(afterAttempt: 2, random: 1) == .seconds(2))
        #expect(options.retryDelay(afterAttempt: 3, random: 1) == .seconds(4))
        #expect(options.retryDelay(afterAttempt: 5, random: 1) == .seconds(10))
        #expect(options.retryDelay(afterAttempt: 50, random: 1) == .seconds(10))
        #expect(options.retryDelay(afterAttempt: 3, random: 0.5) == .seconds(2))
        #expect(options.retryDelay(afterAttempt: 3, random: 0) == .zero)
    }
}
