import Foundation

/// What happened to a job, as `GET /v1/events` streams it.
///
/// The raw value is the stable wire form (the SSE `event:` field).
public enum JobEventType: String, Codable, Sendable, CaseIterable {
    /// The job was stored.
    case submitted
    /// An attempt started.
    case started
    /// An attempt failed; a `retry_scheduled` or `failed` event follows.
    case attemptFailed = "attempt_failed"
    /// The job is queued again for a retry at `run_at`.
    case retryScheduled = "retry_scheduled"
    /// The job succeeded.
    case succeeded
    /// The job failed for good.
    case failed
    /// The job was cancelled.
    case cancelled
    /// An attempt was interrupted by a shutdown; the job is queued again.
    case interrupted
    /// A finished job was queued again by `retry`.
    case requeued
    /// This subscriber fell too far behind and was dropped; reconnect to go on.
    case lagged
    /// The job was stored `waiting`: it is held until other jobs end (a batch's
    /// `on_complete` until the batch ends).
    case waiting
    /// A `waiting` job is `queued` now: what it waited for has ended.
    case released
    /// A `waiting` job was cancelled because a job it waited for failed or was cancelled
    /// (`error` says which).
    case dependencyFailed = "dependency_failed"
    /// Every job of a batch ended (`batch_id` names it, `state` is the batch's end state
    /// spelled as a job state: `succeeded` or `failed`); its `on_complete` job, if any, is
    /// queued (`job_id`).
    case batchCompleted = "batch_completed"
}

/// One event of the `/v1/events` stream.
public struct JobEvent: Codable, Hashable, Sendable {
    /// Increases by one per event since the daemon started (the SSE `id:`).
    public var id: UInt64
    /// What happened.
    public var type: JobEventType
    /// The job it happened to (absent for `lagged`).
    public var jobID: JobID?
    /// The job's state after the event.
    public var state: JobState?
    /// The attempt number, for attempt events.
    public var attempt: Int?
    /// The error, for failures.
    public var error: JobError?
    /// When a scheduled retry is due.
    public var runAt: Date?
    /// When it happened.
    public var time: Date
    /// The batch, for batch events.
    public var batchID: BatchID?

    public init(
        id: UInt64, type: JobEventType, jobID: JobID?, state: JobState?, attempt: Int? = nil,
        error: JobError? = nil, runAt: Date? = nil, time: Date = Date(), batchID: BatchID? = nil
    ) {
        self.id = id
        self.type = type
        self.jobID = jobID
        self.state = state
        self.attempt = attempt
        self.error = error
        self.runAt = runAt
        self.time = time
        self.batchID = batchID
    }

    enum CodingKeys: String, CodingKey {
        case id
        case type
        case jobID = "job_id"
        case state
        case attempt
        case error
        case runAt = "run_at"
        case time
        case batchID = "batch_id"
    }
}
