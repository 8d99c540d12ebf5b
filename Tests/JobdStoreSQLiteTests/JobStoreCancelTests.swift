import Foundation
import JobdModel
import JobdStore
import JobdStoreSQLite
import Testing

@Suite struct JobStoreCancelTests {
    @Test("cancelling a queued job cancels it at once and it never runs")
    func queued() async throws {
        try await withTemporaryStore { store in
            let id = try await store.insertOne(.delay())
            let now = t0.addingTimeInterval(1)
            #expect(try await store.cancel(id, now: now) == .cancelled)

            let record = try await store.requireJob(id)
            #expect(record.state == .cancelled)
            #expect(record.state.isTerminal)
            #expect(record.finishedAt == now)
            #expect(record.error?.code == .cancelled)
            #expect(try await store.claim(limit: 10, now: now).isEmpty)
        }
    }

    @Test("cancelling a running job names the attempt to stop and leaves it running")
    func running() async throws {
        try await withTemporaryStore { store in
            let claim = try await store.insertAndClaim()
            #expect(try await store.cancel(claim.id, now: t0) == .running(claim.attempt))
            #expect(try await store.requireJob(claim.id).state == .running)
        }
    }

    @Test("cancelling a finished job reports its terminal state")
    func terminal() async throws {
        try await withTemporaryStore { store in
            let succeeded = try await store.insertAndClaim()
            _ = try await store.finish(
                succeeded.id, attemptID: succeeded.attemptID, end: .succeeded(.delay(DelayResult(value: .null))),
                now: t0)
            #expect(try await store.cancel(succeeded.id, now: t0) == .alreadyTerminal(.succeeded))

            let failed = try await store.insertAndClaim()
            _ = try await store.finish(
                failed.id, attemptID: failed.attemptID,
                end: .failed(JobError(.jobFailed, "boom"), result: nil, retryAt: nil), now: t0)
            #expect(try await store.cancel(failed.id, now: t0) == .alreadyTerminal(.failed))

            let cancelled = try await store.insertOne(.delay())
            #expect(try await store.cancel(cancelled, now: t0) == .cancelled)
            #expect(try await store.cancel(cancelled, now: t0) == .alreadyTerminal(.cancelled))
        }
    }

    @Test("cancelling an unknown job reports notFound")
    func unknown() async throws {
        try await withTemporaryStore { store async throws in
            #expect(try await store.cancel(4242, now: t0) == .notFound)
        }
    }

    @Test("cancelling a job queued for a retry ends it cancelled and it never runs again")
    func queuedForRetry() async throws {
        try await withTemporaryStore { store in
            let claim = try await store.insertAndClaim()
            _ = try await store.finish(
                claim.id, attemptID: claim.attemptID,
                end: .failed(JobError(.timeout, "slow"), result: nil, retryAt: t0.addingTimeInterval(60)), now: t0)
            #expect(try await store.cancel(claim.id, now: t0) == .cancelled)
            #expect(try await store.requireJob(claim.id).state == .cancelled)
            #expect(try await store.claim(limit: 1, now: t0.addingTimeInterval(120)).isEmpty)
        }
    }
}
