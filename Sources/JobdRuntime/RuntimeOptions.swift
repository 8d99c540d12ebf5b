import Foundation
import JobdModel
import JobdStore

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
    /// Per-kind limits under the global one (a kind without an entry has none).
    public var kindLimits: [JobKind: Int]
    /// The most fetches running at once to one host (`host:port`); nil means no limit.
    public var hostLimit: Int?
    /// Token-bucket rates per fetch host (`limits.per_host_rate`, `limits.host_rates`): a
    /// fetch waits for its host's token without holding a worker slot.
    public var hostRates: HostRateTable
    /// The most jobs waiting (`queued`) at once; a submit past it gets 429. Nil: no cap.
    public var maxQueued: Int?
    /// Finished jobs older than this are pruned in the background; nil keeps them forever.
    public var retention: Duration?
    /// How claims share the workers among submitters (`scheduling.fair_share`).
    public var fairShare: FairShare

    public init(
        workers: Int = 16,
        defaultFetchTimeout: Double = 30,
        defaultDelayTimeout: Double? = nil,
        defaultMaxAttempts: Int = 1,
        shutdownGrace: Duration = .seconds(10),
        retryBase: Duration = .seconds(1),
        retryCap: Duration = .seconds(300),
        kindLimits: [JobKind: Int] = [:],
        hostLimit: Int? = nil,
        hostRates: HostRateTable = HostRateTable(),
        maxQueued: Int? = nil,
        retention: Duration? = .seconds(7 * 24 * 3600),
        fairShare: FairShare = .off
    ) {
        self.workers = workers
        self.defaultFetchTimeout = defaultFetchTimeout
        self.defaultDelayTimeout = defaultDelayTimeout
        self.defaultMaxAttempts = defaultMaxAttempts
        self.shutdownGrace = shutdownGrace
        self.retryBase = retryBase
        self.retryCap = retryCap
        self.kindLimits = kindLimits
        self.hostLimit = hostLimit
        self.hostRates = hostRates
        self.maxQueued = maxQueued
        self.retention = retention
        self.fairShare = fairShare
    }

    /// The wait before the retry that follows `attemptsUsed` attempts: exponential with
    /// "equal" jitter, capped: `c/2 + random(0, c/2)` where `c = min(cap, base * 2^(n-1))`.
    ///
    /// Full jitter (`random(0, c)`) spreads retries as well but can retry sooner than the
    /// previous gap; with half the ceiling fixed, each gap is at least as long as the
    /// longest previous one (until the cap), which is what operators expect to see.
    public func retryDelay(afterAttempt attemptsUsed: Int, random: Double = Double.random(in: 0...1)) -> Duration {
        let exponent = Double(max(0, min(attemptsUsed - 1, 30)))
        let base = retryBase.secondsValue
        let cap = retryCap.secondsValue
        let ceiling = min(cap, base * pow(2, exponent))
        return .nanoseconds(Int64(ceiling * (0.5 + 0.5 * random) * 1e9))
    }
}
