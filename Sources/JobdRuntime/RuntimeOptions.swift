import Foundation

/// Settings of the dispatcher.
public struct RuntimeOptions: Sendable {
    /// The most jobs running at once.
    public var workers: Int
    /// The timeout of a fetch attempt whose spec sets none, in seconds.
    public var defaultFetchTimeout: Double
    /// The timeout of a delay attempt whose spec sets none; nil means none.
    public var defaultDelayTimeout: Double?
    /// `max_attempts` of a job whose spec sets none.
    public var defaultMaxAttempts: Int
    /// How long running jobs may go on after a stop signal before they are interrupted
    /// and re-queued.
    public var shutdownGrace: Duration
    /// The delay before retry number 1; doubles for each later retry.
    public var retryBase: Duration
    /// The longest delay between retries.
    public var retryCap: Duration

    public init(
        workers: Int = 16,
        defaultFetchTimeout: Double = 30,
        defaultDelayTimeout: Double? = nil,
        defaultMaxAttempts: Int = 1,
        shutdownGrace: Duration = .seconds(10),
        retryBase: Duration = .seconds(1),
        retryCap: Duration = .seconds(300)
    ) {
        self.workers = workers
        self.defaultFetchTimeout = defaultFetchTimeout
        self.defaultDelayTimeout = defaultDelayTimeout
        self.defaultMaxAttempts = defaultMaxAttempts
        self.shutdownGrace = shutdownGrace
        self.retryBase = retryBase
        self.retryCap = retryCap
    }

    /// The wait before the retry that follows `attemptsUsed` attempts: exponential with
    /// full jitter, capped (`random(0, min(cap, base * 2^(attemptsUsed-1)))`).
    public func retryDelay(afterAttempt attemptsUsed: Int, random: Double = Double.random(in: 0...1)) -> Duration {
        let exponent = Double(max(0, min(attemptsUsed - 1, 30)))
        let base = Double(retryBase.components.seconds) + Double(retryBase.components.attoseconds) / 1e18
        let cap = Double(retryCap.components.seconds) + Double(retryCap.components.attoseconds) / 1e18
        let ceiling = min(cap, base * pow(2, exponent))
        return .nanoseconds(Int64(ceiling * random * 1e9))
    }
}
