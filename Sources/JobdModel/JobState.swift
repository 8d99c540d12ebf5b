/// Where a job is in its lifecycle.
///
/// `queued → running → succeeded | failed | cancelled`. A failed attempt with attempts
/// left, and an attempt interrupted by a daemon stop or crash, go back to `queued`. A job
/// that waits for others (a batch's `on_complete`) starts `waiting` and becomes `queued`
/// when they are done. The raw value is the stable wire, SQL and CLI form.
public enum JobState: String, Codable, Sendable, CaseIterable {
    /// Held until other jobs end (a batch's `on_complete` job until its batch ends): not
    /// claimed, not counted against `max_queued`.
    case waiting
    /// Waiting for a worker slot or for its `run_at`.
    case queued
    /// An attempt is executing.
    case running
    /// The last attempt produced a result.
    case succeeded
    /// The last attempt failed and no attempt is left (or the error is not retryable).
    case failed
    /// A user cancelled the job.
    case cancelled

    /// True for `succeeded`, `failed` and `cancelled`: the job will not run again unless retried.
    public var isTerminal: Bool {
        switch self {
        case .waiting, .queued, .running: false
        case .succeeded, .failed, .cancelled: true
        }
    }

    /// Whether moving from this state to `next` is a legal lifecycle step.
    ///
    /// `running → queued` covers retries and interrupted attempts; `terminal → queued`
    /// is an explicit retry of a finished job.
    public func canMove(to next: JobState) -> Bool {
        switch (self, next) {
        case (.waiting, .queued), (.waiting, .cancelled): true
        case (.queued, .running), (.queued, .cancelled): true
        case (.running, .succeeded), (.running, .failed), (.running, .cancelled), (.running, .queued): true
        case (.succeeded, .queued), (.failed, .queued), (.cancelled, .queued): true
        default: false
        }
    }
}

/// How one attempt ended.
///
/// The raw value is the stable wire and SQL form.
public enum AttemptOutcome: String, Codable, Sendable, CaseIterable {
    /// Still executing (or the daemon died while it ran and has not restarted yet).
    case running
    /// Produced a result.
    case succeeded
    /// Raised an error; see the attempt's `error`.
    case failed
    /// Stopped by a cancel request.
    case cancelled
    /// Stopped because the daemon stopped or crashed while it ran.
    case interrupted
}

/// What happens to a job whose attempt is interrupted by a daemon crash or stop.
public enum InterruptPolicy: String, Codable, Sendable, CaseIterable {
    /// Re-queue the job (the default). The interrupted attempt does not use up one of
    /// `max_attempts`.
    case retry
    /// Fail the job with `interrupted`: at-most-once, for work that must not run twice.
    case fail
}
