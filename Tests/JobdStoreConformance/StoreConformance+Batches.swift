import Foundation
import JobdModel
import JobdStore
import Synchronization
import Testing

/// The feed's batch completions of one store, for any engine's tests.
public typealias Completions = StoreConformance.Completions

/// The batch cases of the conformance suite (issue 12): a batch's jobs, its end in the
/// transaction of its last job's end, and its `on_complete` job queued exactly once.
extension StoreConformance {
    static let batchCases: [ConformanceCase] = [
        ConformanceCase(
            name: "a batch keeps its jobs in order; its end queues on_complete once, in the same transaction",
            run: batchLifecycle),
        ConformanceCase(name: "a retry reopens a finished batch; on_complete is not queued again", run: batchRetry),
        ConformanceCase(
            name: "cancelBatch cancels waiting and queued jobs and names running ones; the batch ends",
            run: batchCancel),
        ConformanceCase(
            name: "a batch whose last attempt dies ends in the rescue's transaction, on_complete once",
            subject: batchRescue),
        ConformanceCase(
            name: "batches list newest first, paged and by submitter; max_queued counts them", run: batchList),
        ConformanceCase(
            name: "prune keeps the jobs of a running batch and removes a finished one whole", run: batchPrune),
    ]

    static func newBatch(
        _ values: [Int64], onComplete: NewJob? = nil, label: String? = nil, submitterUID: UInt32? = nil,
        onInterrupt: InterruptPolicy = .retry
    ) -> NewBatch {
        NewBatch(
            jobs: values.map { delay($0, maxAttempts: 1, onInterrupt: onInterrupt, submitterUID: submitterUID) },
            label: label, onComplete: onComplete, submitterUID: submitterUID)
    }

    /// A fetch `on_complete` whose URL names the batch.
    static let notify = NewJob(
        spec: JobSpec(.fetch(FetchSpec(url: "http://127.0.0.1:9/done/{batch_id}"))), priority: 0, runAt: t0,
        maxAttempts: 1, timeout: nil, onInterrupt: .retry, submitterUID: nil)

    /// Collects the feed's batch completions (on PostgreSQL they come through the database's
    /// notifications, a moment after the commit).
    public final class Completions: Sendable {
        let seen = Mutex<[BatchCompletion]>([])

        /// Subscribes to `store`'s change feed.
        public init(_ store: any JobStore) {
            store.subscribe { [weak self] change in
                if case .batchCompleted(let completion) = change { self?.seen.withLock { $0.append(completion) } }
            }
        }

        /// Waits until `count` completions came (up to 10 s), then a little longer for any
        /// extra one, and answers them all, in arrival order.
        public func wait(for count: Int) async throws -> [BatchCompletion] {
            let deadline = ContinuousClock.now + .seconds(10)
            while seen.withLock({ $0.count }) < count, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            try await Task.sleep(for: .milliseconds(200))
            return seen.withLock { $0 }
        }
    }

    static func finishAll(
        _ store: any JobStore, _ claims: [ClaimedJob], _ end: (ClaimedJob) -> AttemptEnd
    ) async throws {
        let finishes = claims.map { AttemptFinish(attempt: $0.attempt, end: end($0)) }
        let outcome = try await store.settle(
            SettleRequest(finishes: finishes, claim: ClaimRequest(limit: 0, now: t0)))
        #expect(outcome.recorded.allSatisfy { $0 })
    }

    static func batchLifecycle(_ store: any JobStore) async throws {
        let completions = Completions(store)
        let outcome = try await store.insertBatch(
            newBatch([1, 2, 3], onComplete: notify, label: "three", submitterUID: 7), maxQueued: nil, now: t0)
        #expect(outcome.jobIDs.count == 3)
        #expect(outcome.jobIDs == outcome.jobIDs.sorted())
        let onComplete = try #require(outcome.onCompleteID)
        let waiting = try #require(try await store.job(onComplete))
        #expect(waiting.state == .waiting)
        #expect(waiting.batchID == nil, "on_complete is not a member of its batch")
        if case .fetch(let fetch) = waiting.spec.payload {
            #expect(fetch.url == "http://127.0.0.1:9/done/\(outcome.id)")
        } else {
            Issue.record("on_complete is not the fetch it was: \(waiting.spec)")
        }
        #expect(try await store.job(outcome.jobIDs[1])?.batchID == outcome.id)
        let before = try #require(try await store.batch(outcome.id))
        #expect(before.state == .running && before.size == 3 && before.label == "three")
        #expect(before.counts.queued == 3 && before.counts.terminal == 0)
        #expect(before.jobIDs == outcome.jobIDs && before.onCompleteID == onComplete && before.submitterUID == 7)
        #expect(try await store.counts().waiting == 1)

        // The waiting job is never claimed; the three are, in order.
        let claims = try await store.claim(limit: 10, now: t0)
        #expect(claims.map(\.id) == outcome.jobIDs)
        try await finishAll(store, Array(claims.prefix(2))) { _ in success }
        #expect(try await store.batch(outcome.id)?.state == .running)
        #expect(try await store.job(onComplete)?.state == .waiting)
        // The last end, a failure, ends the batch `failed` and queues on_complete in the
        // same settle: its claim finds it.
        let last = AttemptFinish(
            attempt: claims[2].attempt, end: .failed(JobError(.jobFailed, "boom"), result: nil, retryAt: nil))
        let round = try await store.settle(
            SettleRequest(finishes: [last], claim: ClaimRequest(limit: 5, now: t0 + 1)))
        #expect(round.recorded == [true])
        #expect(round.claimed.map(\.id) == [onComplete])
        let after = try #require(try await store.batch(outcome.id))
        #expect(after.state == .failed && after.finishedAt != nil)
        #expect(after.counts.succeeded == 2 && after.counts.failed == 1)
        let results = try await store.batchResults(outcome.id)
        #expect(results.map(\.id) == outcome.jobIDs)
        #expect(results.map(\.state) == [.succeeded, .succeeded, .failed])
        #expect(results[0].result != nil && results[2].error?.code == .jobFailed)
        #expect(
            try await completions.wait(for: 1) == [
                BatchCompletion(batchID: outcome.id, state: .failed, onCompleteID: onComplete, submitterUID: 7)
            ])
    }

    static func batchRetry(_ store: any JobStore) async throws {
        let completions = Completions(store)
        let outcome = try await store.insertBatch(newBatch([1, 2], onComplete: notify), maxQueued: nil, now: t0)
        let onComplete = try #require(outcome.onCompleteID)
        let claims = try await store.claim(limit: 2, now: t0)
        try await finishAll(store, claims) { claim in
            claim.id == outcome.jobIDs[0] ? success : .failed(JobError(.jobFailed, "no"), result: nil, retryAt: nil)
        }
        #expect(try await store.batch(outcome.id)?.state == .failed)
        // on_complete runs and ends.
        let callback = try #require(try await store.claim(limit: 5, now: t0).first)
        #expect(callback.id == onComplete)
        try await finishAll(store, [callback]) { _ in success }
        // A retry of the failed job reopens the batch; its success ends it `succeeded`.
        #expect(try await store.retry(outcome.jobIDs[1], defaultMaxAttempts: 3, now: t0) == .requeued)
        let reopened = try #require(try await store.batch(outcome.id))
        #expect(reopened.state == .running && reopened.finishedAt == nil)
        let again = try await store.claim(limit: 5, now: t0)
        #expect(again.map(\.id) == [outcome.jobIDs[1]])
        try await finishAll(store, again) { _ in success }
        #expect(try await store.batch(outcome.id)?.state == .succeeded)
        // on_complete ran once: it is not queued again.
        #expect(try await store.job(onComplete)?.state == .succeeded)
        #expect(try await store.claim(limit: 5, now: t0).isEmpty)
        let seen = try await completions.wait(for: 2)
        #expect(seen.map(\.state) == [.failed, .succeeded])
    }

    static func batchCancel(_ store: any JobStore) async throws {
        let completions = Completions(store)
        let outcome = try await store.insertBatch(newBatch([1, 2, 3], onComplete: notify), maxQueued: nil, now: t0)
        let onComplete = try #require(outcome.onCompleteID)
        let running = try #require(try await store.claim(limit: 1, now: t0).first)
        let cancelled = try #require(try await store.cancelBatch(outcome.id, now: t0))
        #expect(Set(cancelled.cancelled) == Set(outcome.jobIDs.dropFirst()))
        #expect(cancelled.runningHere == [running.attempt])
        #expect(cancelled.runningElsewhere.isEmpty)
        #expect(try await store.batch(outcome.id)?.state == .running, "one job still runs")
        #expect(try await store.job(onComplete)?.state == .waiting, "on_complete belongs to no batch: not cancelled")
        // The runtime stops the running attempt: it ends cancelled, and so does the batch.
        try await finishAll(store, [running]) { _ in .cancelled(JobError(.cancelled, "cancelled")) }
        let ended = try #require(try await store.batch(outcome.id))
        #expect(ended.state == .failed && ended.counts.cancelled == 3)
        #expect(try await store.job(onComplete)?.state == .queued)
        #expect(try await store.cancelBatch(BatchID(987_654), now: t0) == nil)
        // A second cancel finds nothing left to do.
        #expect(
            try await store.cancelBatch(outcome.id, now: t0)
                == BatchCancelOutcome(cancelled: [], runningHere: [], runningElsewhere: []))
        #expect(try await completions.wait(for: 1).count == 1)
    }

    static func batchRescue(_ subject: ConformanceSubject) async throws {
        let outcome = try await subject.store.insertBatch(
            newBatch([1], onComplete: notify, onInterrupt: .fail), maxQueued: nil, now: t0)
        let onComplete = try #require(outcome.onCompleteID)
        #expect(try await subject.store.claim(limit: 5, now: t0).map(\.id) == outcome.jobIDs)
        // The owner dies while the batch's last job runs; the rescue fails it (`fail`
        // policy), which ends the batch and queues on_complete, once.
        let store = try await subject.crashAndReopen()
        let completions = Completions(store)
        _ = try await store.rescue(now: t0)
        let batch = try #require(try await store.batch(outcome.id))
        #expect(batch.state == .failed)
        #expect(try await store.job(onComplete)?.state == .queued)
        let callback = try await store.claim(limit: 5, now: t0)
        #expect(callback.map(\.id) == [onComplete])
        try await finishAll(store, callback) { _ in success }
        #expect(try await store.job(onComplete)?.state == .succeeded)
        #expect(try await completions.wait(for: 1).map(\.onCompleteID) == [onComplete])
    }

    static func batchList(_ store: any JobStore) async throws {
        let a = try await store.insertBatch(newBatch([1], submitterUID: 7), maxQueued: nil, now: t0).id
        let b = try await store.insertBatch(newBatch([2, 3], submitterUID: 8), maxQueued: nil, now: t0).id
        let c = try await store.insertBatch(newBatch([4], submitterUID: 7), maxQueued: nil, now: t0).id
        #expect(try await store.batches(BatchListQuery(limit: 10)).map(\.id) == [c, b, a])
        let page = try await store.batches(BatchListQuery(limit: 2))
        #expect(page.map(\.id) == [c, b])
        #expect(page.allSatisfy { $0.jobIDs == nil })
        #expect(page[1].counts.queued == 2 && page[1].size == 2)
        #expect(try await store.batches(BatchListQuery(limit: 2, before: b)).map(\.id) == [a])
        #expect(try await store.batches(BatchListQuery(limit: 10, submitterUID: 7)).map(\.id) == [c, a])
        #expect(try await store.batches(BatchListQuery(state: .succeeded, limit: 10)).isEmpty)
        #expect(try await store.batch(BatchID(987_654)) == nil)
        // max_queued counts a batch's jobs; a batch that does not fit is refused whole.
        do {
            _ = try await store.insertBatch(newBatch([5, 6]), maxQueued: 5, now: t0)
            Issue.record("a batch past max_queued was stored")
        } catch let error as StoreError {
            #expect(error.code == .queueFull)
        }
        #expect(try await store.batches(BatchListQuery(limit: 10)).count == 3)
        #expect(try await store.counts().queued == 4)
    }

    static func batchPrune(_ store: any JobStore) async throws {
        let outcome = try await store.insertBatch(newBatch([1, 2]), maxQueued: nil, now: t0)
        let first = try #require(try await store.claim(limit: 1, now: t0).first)
        try await finishAll(store, [first]) { _ in success }
        // Finished long ago by the cutoff, but its batch still runs: kept.
        #expect(try await store.prune(finishedBefore: t0 + 3600, limit: 100) == 0)
        #expect(try await store.batchResults(outcome.id).count == 2)
        let second = try #require(try await store.claim(limit: 1, now: t0).first)
        try await finishAll(store, [second]) { _ in success }
        let finishedAt = try #require(try await store.batch(outcome.id)?.finishedAt)
        #expect(try await store.prune(finishedBefore: finishedAt.addingTimeInterval(3600), limit: 100) == 2)
        #expect(try await store.batch(outcome.id) == nil, "a batch goes with its last job")
    }
}
