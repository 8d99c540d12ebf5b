import Foundation

/// One run of a job.
public struct JobAttempt: Codable, Hashable, Sendable {
    /// The attempt's row id, also its fencing token: a finish is written only while this
    /// attempt still owns the job.
    public var id: Int64
    /// 1 for the first attempt, counting interrupted ones.
    public var number: Int
    /// When it started.
    public var startedAt: Date
    /// When it ended; nil while running.
    public var finishedAt: Date?
    /// How it ended.
    public var outcome: AttemptOutcome
    /// Why it did not succeed, if it did not.
    public var error: JobError?
    /// The name of the node that ran it: on PostgreSQL only (`node.name`); absent on
    /// SQLite, where one daemon runs everything.
    public var node: String?

    public init(
        id: Int64, number: Int, startedAt: Date, finishedAt: Date?, outcome: AttemptOutcome,
        error: JobError?, node: String? = nil
    ) {
        self.id = id
        self.number = number
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.outcome = outcome
        self.error = error
        self.node = node
    }

    enum CodingKeys: String, CodingKey {
        case id
        case number
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case outcome
        case error
        case node
    }
}

/// A job as stored: its spec, state, attempts and result.
public struct JobRecord: Codable, Hashable, Sendable {
    /// The job's id.
    public var id: JobID
    /// The job's kind.
    public var kind: JobKind
    /// The spec as submitted.
    public var spec: JobSpec
    /// The current state.
    public var state: JobState
    /// The priority in force (higher first).
    public var priority: Int
    /// The earliest time the next attempt may start.
    public var runAt: Date
    /// How many attempts the job may use, not counting interrupted ones.
    public var maxAttempts: Int
    /// How many attempts have started, interrupted ones included.
    public var attemptCount: Int
    /// When it was submitted.
    public var createdAt: Date
    /// When its row last changed.
    public var updatedAt: Date
    /// When it reached its terminal state.
    public var finishedAt: Date?
    /// The uid of the submitting process, when the server could read it.
    public var submitterUID: UInt32?
    /// The result of the last attempt (also for `http_status` failures).
    public var result: JobResult?
    /// The error that ended the job, for `failed` and `cancelled`.
    public var error: JobError?
    /// Every attempt, oldest first. Present on `GET /v1/jobs/{id}` and `wait`; absent in lists.
    public var attempts: [JobAttempt]?
    /// The batch the job belongs to, if any (`POST /v1/batches`).
    public var batchID: BatchID?
    /// The jobs that wait for this one (`after`), by id. Present on `GET /v1/jobs/{id}`
    /// when there are any; absent in lists. The jobs it waits for are its spec's `after`.
    public var children: [JobID]?
    /// The host rate limit this job waits for before its attempt starts: present on
    /// `GET /v1/jobs/{id}` and `wait` while a claimed fetch waits for its token (its state
    /// is `running`, its attempt not started); absent otherwise.
    public var rateLimit: RateLimitWait?

    public init(
        id: JobID, kind: JobKind, spec: JobSpec, state: JobState, priority: Int, runAt: Date,
        maxAttempts: Int, attemptCount: Int, createdAt: Date, updatedAt: Date,
        finishedAt: Date?, submitterUID: UInt32?, result: JobResult?, error: JobError?,
        attempts: [JobAttempt]?, batchID: BatchID? = nil
    ) {
        self.id = id
        self.kind = kind
        self.spec = spec
        self.state = state
        self.priority = priority
        self.runAt = runAt
        self.maxAttempts = maxAttempts
        self.attemptCount = attemptCount
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.finishedAt = finishedAt
        self.submitterUID = submitterUID
        self.result = result
        self.error = error
        self.attempts = attempts
        self.batchID = batchID
    }

    enum CodingKeys: String, CodingKey {
        case id
        case kind
        case spec
        case state
        case priority
        case runAt = "run_at"
        case maxAttempts = "max_attempts"
        case attemptCount = "attempt_count"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case finishedAt = "finished_at"
        case submitterUID = "submitter_uid"
        case result
        case error
        case attempts
        case batchID = "batch_id"
        case children
        case rateLimit = "rate_limit"
    }
}
