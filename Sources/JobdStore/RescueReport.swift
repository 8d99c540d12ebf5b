/// What `JobStore.rescue(now:)` did with the attempts of dead owners.
public struct RescueReport: Sendable, Hashable {
    /// How many times an `on_interrupt: retry` job may be interrupted before it fails with
    /// `interrupted`: a job that crashes the daemon every time must not loop for ever.
    public static let maxInterruptions = 10

    /// Attempts marked `interrupted`.
    public var interruptedAttempts: Int
    /// Jobs put back to `queued`.
    public var requeuedJobs: Int
    /// Jobs failed with `interrupted` (policy `fail`, or too many interruptions).
    public var failedJobs: Int

    /// Describes a rescue.
    ///
    /// - Parameters:
    ///   - interruptedAttempts: Attempts marked `interrupted`.
    ///   - requeuedJobs: Jobs queued again.
    ///   - failedJobs: Jobs failed with `interrupted`.
    public init(interruptedAttempts: Int, requeuedJobs: Int, failedJobs: Int) {
        self.interruptedAttempts = interruptedAttempts
        self.requeuedJobs = requeuedJobs
        self.failedJobs = failedJobs
    }
}
