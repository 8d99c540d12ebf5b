import CoreMetrics
import Foundation
import JobdModel
import JobdStore
import Synchronization

/// Batches: durable `gather`. The store keeps a batch's jobs together and ends it in the
/// transaction of its last job's end; the dispatcher runs its jobs like any other.
extension Dispatcher {
    /// Stores a batch with the daemon's defaults filled in; its `on_complete` job waits
    /// until the batch ends.
    ///
    /// Returns only after the batch is committed.
    ///
    /// - Parameters:
    ///   - request: A validated request.
    ///   - submitterUID: The submitting peer's uid, when known.
    /// - Returns: The batch's id, its jobs' ids in order, the `on_complete` job's id.
    /// - Throws: `DispatchError` `shutting_down` or `queue_full`; `StoreError` when the
    ///   store cannot commit (then nothing was stored).
    public func submitBatch(_ request: CreateBatchRequest, submitterUID: UInt32? = nil) async throws
        -> BatchInsertOutcome
    {
        guard !state.withLock({ $0.isShuttingDown }) else {
            throw DispatchError(.shuttingDown, "jobd is shutting down and accepts no new jobs")
        }
        let now = Date()
        let batch = NewBatch(
            jobs: request.jobs.map { newJob($0, submitterUID: submitterUID, now: now) }, label: request.label,
            onComplete: request.onComplete.map { newJob($0, submitterUID: submitterUID, now: now) },
            submitterUID: submitterUID)
        let outcome: BatchInsertOutcome
        do {
            outcome = try await store.insertBatch(batch, maxQueued: options.maxQueued, now: now)
        } catch let error as StoreError where error.code == .queueFull {
            throw DispatchError(.queueFull, error.message)
        }
        metrics.submitted.increment(by: Int64(outcome.jobIDs.count))
        state.withLock { $0.submitted += outcome.jobIDs.count }
        if let waiting = outcome.onCompleteID {
            events.publish(.waiting, jobID: waiting, state: .waiting, submitterUID: submitterUID)
        }
        return outcome
    }

    /// Cancels every unfinished job of a batch: waiting and queued ones at once, running
    /// ones by stopping their attempts (on this node; other nodes stop theirs when the
    /// change feed asks them).
    ///
    /// Who may cancel which batch is the server's question (it checks the owner first).
    ///
    /// - Returns: How many jobs were cancelled at once and how many are being stopped.
    /// - Throws: `DispatchError` `not_found`; `StoreError`.
    public func cancelBatch(_ batchID: BatchID) async throws -> BatchCancelResponse {
        guard let outcome = try await store.cancelBatch(batchID, now: Date()) else {
            throw DispatchError(.notFound, "no batch has id \(batchID)")
        }
        for id in outcome.cancelled { events.jobFinished(id) }
        // A running job may be claimed but not registered yet: the note is picked up when
        // it registers, as for one job's cancel.
        for attempt in outcome.runningHere {
            stopRunning(attempt.jobID, reason: .cancelRequested, orRemember: true)
        }
        return BatchCancelResponse(
            id: batchID, cancelled: outcome.cancelled.count,
            stopping: outcome.runningHere.count + outcome.runningElsewhere.count)
    }
}
