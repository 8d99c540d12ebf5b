import Foundation
import JobdModel

/// A job ready to insert: the spec with every default resolved.
public struct NewJob: Sendable {
    /// The spec as submitted (stored as JSON, returned by `GET /v1/jobs/{id}`).
    public var spec: JobSpec
    /// The priority in force.
    public var priority: Int
    /// The earliest start.
    public var runAt: Date
    /// How many attempts the job may use.
    public var maxAttempts: Int
    /// The per-attempt time limit, if any.
    public var timeout: Double?
    /// What an interrupted attempt leads to.
    public var onInterrupt: InterruptPolicy
    /// The submitter's uid, when known.
    public var submitterUID: UInt32?

    public init(
        spec: JobSpec, priority: Int, runAt: Date, maxAttempts: Int, timeout: Double?,
        onInterrupt: InterruptPolicy, submitterUID: UInt32?
    ) {
        self.spec = spec
        self.priority = priority
        self.runAt = runAt
        self.maxAttempts = maxAttempts
        self.timeout = timeout
        self.onInterrupt = onInterrupt
        self.submitterUID = submitterUID
    }
}

/// What an insert did with one job.
public struct InsertOutcome: Sendable, Hashable {
    /// The job's id: new, or the existing job's when its idempotency key was taken.
    public var id: JobID
    /// False when a job with the same `key` already existed and was returned instead.
    public var created: Bool

    public init(id: JobID, created: Bool) {
        self.id = id
        self.created = created
    }
}

/// Who submitted a job.
public struct JobOwner: Sendable, Hashable {
    /// The submitter's uid; nil for a job stored without one (by a version before access
    /// control, or through the library without a peer).
    public var submitterUID: UInt32?

    public init(submitterUID: UInt32?) {
        self.submitterUID = submitterUID
    }
}

/// How an attempt ended, as the runtime decided it (retry policy included); the store writes it.
public enum AttemptEnd: Sendable, Hashable {
    /// The job succeeded with this result.
    case succeeded(JobResult)
    /// The attempt failed. With `retryAt` the job goes back to `queued` until then;
    /// without, the job ends `failed`. `result` keeps an `http_status` response.
    case failed(JobError, result: JobResult?, retryAt: Date?)
    /// A user cancelled the running attempt: the job ends `cancelled`.
    case cancelled(JobError)
    /// The daemon stopped the attempt while shutting down: the attempt is recorded
    /// `interrupted` and the job is re-queued without using one of its attempts.
    case interrupted(JobError)
}

/// What a cancel request found.
public enum CancelOutcome: Sendable, Hashable {
    /// The job was queued and is now `cancelled`.
    case cancelled
    /// The job is running this attempt here; the runtime must stop it.
    case running(AttemptRef)
    /// The job is running on another node (an engine with many nodes), which the change
    /// feed's `cancelRequested` asks to stop it; this node has nothing to stop or remember.
    case runningElsewhere
    /// The job had already finished in this state.
    case alreadyTerminal(JobState)
    /// No job has this id.
    case notFound
}

/// What a retry request found.
public enum RetryOutcome: Sendable, Hashable {
    /// The finished job is queued again with a fresh attempt budget.
    case requeued
    /// The job is not finished (queued or running); nothing changed.
    case notFinished(JobState)
    /// No job has this id.
    case notFound
}

/// Jobs per state.
public struct JobCounts: Sendable, Hashable {
    /// Jobs held until others end (a batch's `on_complete`).
    public var waiting = 0
    /// Jobs waiting to run (due or not).
    public var queued = 0
    /// Jobs with an attempt running.
    public var running = 0
    /// Jobs that succeeded.
    public var succeeded = 0
    /// Jobs that failed for good.
    public var failed = 0
    /// Jobs that were cancelled.
    public var cancelled = 0

    /// No jobs.
    public init() {}

    /// Records the count of the state spelled `state` (a `GROUP BY state` row); an unknown
    /// state is left out.
    public mutating func set(_ count: Int, forState state: String) {
        switch JobState(rawValue: state) {
        case .waiting: waiting = count
        case .queued: queued = count
        case .running: running = count
        case .succeeded: succeeded = count
        case .failed: failed = count
        case .cancelled: cancelled = count
        case nil: break
        }
    }
}
