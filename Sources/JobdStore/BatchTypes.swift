import Foundation
import JobdModel

/// A batch ready to insert: its jobs in order, with every default resolved.
public struct NewBatch: Sendable {
    /// The jobs, in order; none has an idempotency key.
    public var jobs: [NewJob]
    /// The submitter's label.
    public var label: String?
    /// The job queued once when the batch ends; stored `waiting` until then. `{batch_id}`
    /// in its fetch URL is still the placeholder: the engine replaces it
    /// (`JobSpec.replacingBatchID`) once the batch has its id.
    public var onComplete: NewJob?
    /// The submitter's uid, when known.
    public var submitterUID: UInt32?

    public init(jobs: [NewJob], label: String?, onComplete: NewJob?, submitterUID: UInt32?) {
        self.jobs = jobs
        self.label = label
        self.onComplete = onComplete
        self.submitterUID = submitterUID
    }
}

/// What `insertBatch` stored.
public struct BatchInsertOutcome: Sendable, Hashable {
    /// The batch's id.
    public var id: BatchID
    /// Its jobs' ids, in order.
    public var jobIDs: [JobID]
    /// The `on_complete` job's id, if one was given.
    public var onCompleteID: JobID?

    public init(id: BatchID, jobIDs: [JobID], onCompleteID: JobID?) {
        self.id = id
        self.jobIDs = jobIDs
        self.onCompleteID = onCompleteID
    }
}

/// A page of batches, newest first.
public struct BatchListQuery: Sendable, Hashable {
    /// Only batches in this state.
    public var state: BatchState?
    /// The page size.
    public var limit: Int
    /// Only batches with ids below this one (the previous page's last).
    public var before: BatchID?
    /// Only batches of this submitter; nil: everyone's.
    public var submitterUID: UInt32?

    public init(state: BatchState? = nil, limit: Int, before: BatchID? = nil, submitterUID: UInt32? = nil) {
        self.state = state
        self.limit = limit
        self.before = before
        self.submitterUID = submitterUID
    }
}

/// What `cancelBatch` did.
public struct BatchCancelOutcome: Sendable, Hashable {
    /// Jobs that were waiting or queued and are now `cancelled`.
    public var cancelled: [JobID]
    /// Attempts running on this node: the runtime stops them (each ends `cancelled`).
    public var runningHere: [AttemptRef]
    /// Jobs running on other nodes, asked to stop through the change feed
    /// (`cancelRequested`); their nodes stop them.
    public var runningElsewhere: [JobID]

    public init(cancelled: [JobID], runningHere: [AttemptRef], runningElsewhere: [JobID]) {
        self.cancelled = cancelled
        self.runningHere = runningHere
        self.runningElsewhere = runningElsewhere
    }
}

/// A batch whose last job ended.
public struct BatchCompletion: Sendable, Hashable {
    /// The batch.
    public var batchID: BatchID
    /// How it ended: `succeeded` or `failed`.
    public var state: BatchState
    /// Its `on_complete` job, queued in the same transaction, if it has one.
    public var onCompleteID: JobID?
    /// The batch's submitter.
    public var submitterUID: UInt32?

    public init(batchID: BatchID, state: BatchState, onCompleteID: JobID?, submitterUID: UInt32?) {
        self.batchID = batchID
        self.state = state
        self.onCompleteID = onCompleteID
        self.submitterUID = submitterUID
    }
}
