import JobdRuntime
import Testing

@Suite struct RetryPolicyTests {
    @Test("the retry delay doubles per attempt up to the cap, with equal jitter")
    func backoff() {
        let options = RuntimeOptions(retryBase: .seconds(1), retryCap: .seconds(10))
        #expect(options.retryDelay(afterAttempt: 1, random: 1) == .seconds(1))
        #expect(options.retryDelay(afterAttempt: 2, random: 1) == .seconds(2))
        #expect(options.retryDelay(afterAttempt: 3, random: 1) == .seconds(4))
        #expect(options.retryDelay(afterAttempt: 5, random: 1) == .seconds(10))
        #expect(options.retryDelay(afterAttempt: 50, random: 1) == .seconds(10))
        #expect(options.retryDelay(afterAttempt: 3, random: 0.5) == .seconds(3))
        #expect(options.retryDelay(afterAttempt: 3, random: 0) == .seconds(2))
        // Each gap is at least the previous one's longest.
        for attempt in 1..<4 {
            #expect(
                options.retryDelay(afterAttempt: attempt + 1, random: 0)
                    >= options.retryDelay(afterAttempt: attempt, random: 1))
        }
    }
}
