import Foundation

/// Where a batch is: `running` until every one of its jobs is terminal, then `succeeded`
/// when all of them succeeded, else `failed`.
///
/// A retry of one of its jobs makes a finished batch `running` again until that job ends
/// (its `on_complete` job is not queued a second time). The raw value is the stable wire
/// and SQL form.
public enum BatchState: String, Codable, Sendable, CaseIterable {
    /// Some job of the batch is not terminal yet.
    case running
    /// Every job succeeded.
    case succeeded
    /// Every job is terminal and at least one failed or was cancelled.
    case failed

    /// True for `succeeded` and `failed`.
    public var isFinished: Bool { self != .running }
}

/// A batch's jobs per state.
public struct BatchCounts: Codable, Hashable, Sendable {
    public var waiting = 0
    public var queued = 0
    public var running = 0
    public var succeeded = 0
    public var failed = 0
    public var cancelled = 0

    /// No jobs.
    public init() {}

    /// The count of one state.
    public subscript(state: JobState) -> Int {
        get {
            switch state {
            case .waiting: waiting
            case .queued: queued
            case .running: running
            case .succeeded: succeeded
            case .failed: failed
            case .cancelled: cancelled
            }
        }
        set {
            switch state {
            case .waiting: waiting = newValue
            case .queued: queued = newValue
            case .running: running = newValue
            case .succeeded: succeeded = newValue
            case .failed: failed = newValue
            case .cancelled: cancelled = newValue
            }
        }
    }

    /// Jobs in a terminal state.
    public var terminal: Int { succeeded + failed + cancelled }
}

/// A batch as stored: asyncio's `gather`, made durable.
///
/// Its jobs are ordinary jobs (each has its own record, with `batch_id` set); the batch
/// keeps their order, counts them per state, and queues its `on_complete` job once when
/// the last of them ends.
public struct BatchRecord: Codable, Hashable, Sendable {
    /// The batch's id.
    public var id: BatchID
    /// The submitter's label, if any.
    public var label: String?
    /// Where the batch is.
    public var state: BatchState
    /// How many jobs it holds.
    public var size: Int
    /// Its jobs per state.
    public var counts: BatchCounts
    /// When it was submitted.
    public var createdAt: Date
    /// When its last job ended; nil while `running`.
    public var finishedAt: Date?
    /// The uid of the submitting process, when the server could read it.
    public var submitterUID: UInt32?
    /// The job queued when the batch ends (`waiting` until then), if one was given.
    public var onCompleteID: JobID?
    /// The batch's job ids in submit order: on `GET /v1/batches/{id}`; absent in lists.
    public var jobIDs: [JobID]?

    public init(
        id: BatchID, label: String?, state: BatchState, size: Int, counts: BatchCounts, createdAt: Date,
        finishedAt: Date?, submitterUID: UInt32?, onCompleteID: JobID?, jobIDs: [JobID]? = nil
    ) {
        self.id = id
        self.label = label
        self.state = state
        self.size = size
        self.counts = counts
        self.createdAt = createdAt
        self.finishedAt = finishedAt
        self.submitterUID = submitterUID
        self.onCompleteID = onCompleteID
        self.jobIDs = jobIDs
    }

    enum CodingKeys: String, CodingKey {
        case id
        case label
        case state
        case size
        case counts
        case createdAt = "created_at"
        case finishedAt = "finished_at"
        case submitterUID = "submitter_uid"
        case onCompleteID = "on_complete_id"
        case jobIDs = "job_ids"
    }
}
