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

/// A job the dispatcher has claimed: its row moved to `running` and an attempt row exists.
public struct ClaimedJob: Sendable {
    /// The job.
    public var id: JobID
    /// The attempt's row id: the fencing token for `finish`.
    public var attemptID: Int64
    /// The attempt's number (1-based, counting interrupted attempts).
    public var attemptNumber: Int
    /// Attempts used so far including this one, not counting interrupted ones.
    public var attemptsUsed: Int
    /// The job's attempt budget.
    public var maxAttempts: Int
    /// The per-attempt time limit, if any.
    public var timeout: Double?
    /// The priority (claims come highest first).
    public var priority: Int
    /// For fetch jobs, the `host:port` of the per-host limit.
    public var host: String?
    /// When the job was due.
    public var runAt: Date
    /// The spec to execute.
    public var spec: JobSpec
    /// The uid that submitted the job, when recorded (events carry it to filter subscribers).
    public var submitterUID: UInt32?

    public init(
        id: JobID, attemptID: Int64, attemptNumber: Int, attemptsUsed: Int, maxAttempts: Int,
        timeout: Double?, priority: Int, host: String? = nil, runAt: Date, spec: JobSpec, submitterUID: UInt32? = nil
    ) {
        self.submitterUID = submitterUID
        self.host = host
        self.id = id
        self.attemptID = attemptID
        self.attemptNumber = attemptNumber
        self.attemptsUsed = attemptsUsed
        self.maxAttempts = maxAttempts
        self.timeout = timeout
        self.priority = priority
        self.runAt = runAt
        self.spec = spec
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

/// One attempt's end, for `JobStore.settle`.
public struct AttemptFinish: Sendable, Hashable {
    /// The job.
    public var jobID: JobID
    /// The attempt's fencing token.
    public var attemptID: Int64
    /// How it ended.
    public var end: AttemptEnd
    /// When it ended (nil: when it is written).
    public var endedAt: Date?

    public init(jobID: JobID, attemptID: Int64, end: AttemptEnd, endedAt: Date? = nil) {
        self.jobID = jobID
        self.attemptID = attemptID
        self.end = end
        self.endedAt = endedAt
    }
}

/// What `JobStore.settle` did.
public struct SettleOutcome: Sendable {
    /// Per finish, in order: true when recorded, false when its attempt was fenced out.
    public var recorded: [Bool]
    /// The claimed jobs, in claim order.
    public var claimed: [ClaimedJob]
    /// The earliest future `run_at` of a queued job, read when the claim took fewer jobs
    /// than its limit (nil otherwise, or when no job is queued for later).
    public var nextRunAt: Date?

    public init(recorded: [Bool], claimed: [ClaimedJob], nextRunAt: Date? = nil) {
        self.recorded = recorded
        self.claimed = claimed
        self.nextRunAt = nextRunAt
    }
}

/// How an attempt ended, as the runtime decided it; `JobStore.finish` writes it.
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
    /// The job is running this attempt; the runtime must stop it.
    case running(attemptID: Int64)
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

/// What start-up recovery did with attempts a crash left `running`.
public struct RecoveryReport: Sendable, Hashable {
    /// Attempts marked `interrupted`.
    public var interruptedAttempts: Int
    /// Jobs put back to `queued`.
    public var requeuedJobs: Int
    /// Jobs failed with `interrupted` (policy `fail`, or too many interruptions).
    public var failedJobs: Int

    public init(interruptedAttempts: Int, requeuedJobs: Int, failedJobs: Int) {
        self.interruptedAttempts = interruptedAttempts
        self.requeuedJobs = requeuedJobs
        self.failedJobs = failedJobs
    }
}

/// Jobs per state.
public struct JobCounts: Sendable, Hashable {
    public var queued = 0
    public var running = 0
    public var succeeded = 0
    public var failed = 0
    public var cancelled = 0

    public init() {}
}
