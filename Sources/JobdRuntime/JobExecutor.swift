import JobdModel
import JobdStore

/// Runs one attempt of one kind of job.
///
/// - Important: An executor must observe task cancellation promptly: the runtime
///   cancels it for a timeout, a cancel request or a shutdown, and waits for it to
///   return before it records the attempt.
public protocol JobExecutor: Sendable {
    /// Runs the attempt and returns its result.
    ///
    /// - Parameter job: The claimed job; its spec's payload is of this executor's kind.
    /// - Returns: The result to store.
    /// - Throws: `ExecutionFailure` for a failure to record (any other error is recorded
    ///   as `internal`), or `CancellationError` when cancelled.
    func execute(_ job: ClaimedJob) async throws -> JobResult
}

/// A failed attempt: the error to record and, for `http_status`, the response to keep.
public struct ExecutionFailure: Error, Sendable {
    /// The recorded error.
    public var error: JobError
    /// A result worth keeping despite the failure.
    public var result: JobResult?
    /// How long the server asked us to wait before trying again (`Retry-After`).
    public var retryAfter: Duration?

    public init(_ error: JobError, result: JobResult? = nil, retryAfter: Duration? = nil) {
        self.error = error
        self.result = result
        self.retryAfter = retryAfter
    }

    public init(_ code: JobError.Code, _ message: String) {
        self.init(JobError(code, message))
    }
}

/// An executor whose attempt is only a wait followed by a known outcome.
///
/// The dispatcher runs such attempts without a task: it keeps each one's deadline in
/// one heap and ends every attempt that is due in the same round trip to the database.
/// Ten thousand running delay jobs then cost ten thousand heap entries, not ten thousand
/// sleeping tasks with their timers (docs/benchmarks.md, W2). `execute` must mean the
/// same thing: sleep for `plan(job).duration`, then return or throw its outcome.
public protocol TimedJobExecutor: JobExecutor {
    /// How long the attempt waits, and how it ends when the wait is over.
    func plan(_ job: ClaimedJob) -> TimedAttempt
}

/// The plan of one timed attempt.
public struct TimedAttempt: Sendable {
    /// How long the attempt runs.
    public var duration: Duration
    /// Its outcome once `duration` has passed.
    public var outcome: Result<JobResult, ExecutionFailure>

    public init(duration: Duration, outcome: Result<JobResult, ExecutionFailure>) {
        self.duration = duration
        self.outcome = outcome
    }
}
