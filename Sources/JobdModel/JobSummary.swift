import Foundation

/// A job as `GET /v1/jobs` lists it: a `JobRecord` without its result body, attempts,
/// children or rate-limit wait, and with its result described by size instead.
///
/// A list never carries a result body, so a page stays small whatever the jobs fetched:
/// `result_bytes`, `result_content_type` and `result_status` describe the body that
/// `GET /v1/jobs/{id}/result` answers. A delay's `value` is left out of `spec` too, since
/// it is that job's result. `GET /v1/jobs/{id}` still answers the whole record.
public struct JobSummary: Codable, Hashable, Sendable {
    /// The job's id.
    public var id: JobID
    /// The job's kind.
    public var kind: JobKind
    /// The spec as submitted, except a delay's `value`.
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
    /// The error that ended the job, for `failed` and `cancelled`.
    public var error: JobError?
    /// The batch the job belongs to, if any.
    public var batchID: BatchID?
    /// The last attempt's result, described; nil when the job has none. On the wire its
    /// fields are the summary's own (`result_bytes`, …), absent when there is no result.
    public var result: ResultSummary?

    /// Makes a summary.
    ///
    /// - Parameters: The fields of the same names; `spec` is kept as given.
    public init(
        id: JobID, kind: JobKind, spec: JobSpec, state: JobState, priority: Int, runAt: Date, maxAttempts: Int,
        attemptCount: Int, createdAt: Date, updatedAt: Date, finishedAt: Date?, submitterUID: UInt32?,
        error: JobError?, batchID: BatchID?, result: ResultSummary?
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
        self.error = error
        self.batchID = batchID
        self.result = result
    }

    /// The summary of a full record: its result described, a delay's value left out of
    /// its spec.
    ///
    /// - Parameter record: The job.
    public init(_ record: JobRecord) {
        self.init(
            id: record.id, kind: record.kind, spec: Self.listed(record.spec), state: record.state,
            priority: record.priority, runAt: record.runAt, maxAttempts: record.maxAttempts,
            attemptCount: record.attemptCount, createdAt: record.createdAt, updatedAt: record.updatedAt,
            finishedAt: record.finishedAt, submitterUID: record.submitterUID, error: record.error,
            batchID: record.batchID, result: record.result.map(ResultSummary.init))
    }

    /// A spec as a list shows it: a delay's `value` (its result to be) left out.
    ///
    /// - Parameter spec: The spec as stored.
    /// - Returns: The same spec without a delay's value.
    public static func listed(_ spec: JobSpec) -> JobSpec {
        guard case .delay(var delay) = spec.payload, delay.value != nil else { return spec }
        delay.value = nil
        var spec = spec
        spec.payload = .delay(delay)
        return spec
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
        case error
        case batchID = "batch_id"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(JobID.self, forKey: .id)
        kind = try container.decode(JobKind.self, forKey: .kind)
        spec = try container.decode(JobSpec.self, forKey: .spec)
        state = try container.decode(JobState.self, forKey: .state)
        priority = try container.decode(Int.self, forKey: .priority)
        runAt = try container.decode(Date.self, forKey: .runAt)
        maxAttempts = try container.decode(Int.self, forKey: .maxAttempts)
        attemptCount = try container.decode(Int.self, forKey: .attemptCount)
        createdAt = try container.decode(Date.self, forKey: .createdAt)
        updatedAt = try container.decode(Date.self, forKey: .updatedAt)
        finishedAt = try container.decodeIfPresent(Date.self, forKey: .finishedAt)
        submitterUID = try container.decodeIfPresent(UInt32.self, forKey: .submitterUID)
        error = try container.decodeIfPresent(JobError.self, forKey: .error)
        batchID = try container.decodeIfPresent(BatchID.self, forKey: .batchID)
        let resultFields = try decoder.container(keyedBy: ResultSummary.CodingKeys.self)
        result = resultFields.contains(.bytes) ? try ResultSummary(from: decoder) : nil
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(kind, forKey: .kind)
        try container.encode(spec, forKey: .spec)
        try container.encode(state, forKey: .state)
        try container.encode(priority, forKey: .priority)
        try container.encode(runAt, forKey: .runAt)
        try container.encode(maxAttempts, forKey: .maxAttempts)
        try container.encode(attemptCount, forKey: .attemptCount)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encodeIfPresent(finishedAt, forKey: .finishedAt)
        try container.encodeIfPresent(submitterUID, forKey: .submitterUID)
        try container.encodeIfPresent(error, forKey: .error)
        try container.encodeIfPresent(batchID, forKey: .batchID)
        try result?.encode(to: encoder)
    }
}
