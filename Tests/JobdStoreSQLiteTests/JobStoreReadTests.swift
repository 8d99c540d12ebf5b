import Foundation
import JobdModel
import JobdStore
import JobdStoreSQLite
import Testing

@Suite struct JobStoreReadTests {
    /// Six jobs: three delays (one of them running), two fetches (one cancelled), one delay failed.
    static func seed(_ store: SQLiteJobStore) async throws -> [JobID] {
        let ids = try await store.insert(
            [.delay(), .fetch(), .delay(), .fetch(), .delay(), .delay()], now: t0
        ).map(\.id)
        _ = try await store.cancel(ids[3], now: t0)
        let claims = try await store.claim(limit: 2, now: t0)  // ids[0] and ids[1]
        _ = try await store.finish(
            claims[1].id, attemptID: claims[1].attemptID,
            end: .failed(JobError(.dnsFailed, "no such host"), result: nil, retryAt: nil), now: t0)
        return ids
    }

    @Test("list returns jobs newest first, as summaries (no attempt lists by type)")
    func newestFirst() async throws {
        try await withTemporaryStore { store in
            let ids = try await Self.seed(store)
            let page = try await store.list(limit: 100)
            #expect(page.map(\.id) == ids.reversed())
        }
    }

    @Test("list filters by state, by kind, and by both")
    func filters() async throws {
        try await withTemporaryStore { store in
            let ids = try await Self.seed(store)
            #expect(try await store.list(state: .queued, limit: 100).map(\.id) == [ids[5], ids[4], ids[2]])
            #expect(try await store.list(state: .running, limit: 100).map(\.id) == [ids[0]])
            #expect(try await store.list(state: .failed, limit: 100).map(\.id) == [ids[1]])
            #expect(try await store.list(state: .cancelled, limit: 100).map(\.id) == [ids[3]])
            #expect(try await store.list(state: .succeeded, limit: 100).isEmpty)
            #expect(try await store.list(kind: .fetch, limit: 100).map(\.id) == [ids[3], ids[1]])
            #expect(try await store.list(kind: .delay, limit: 100).map(\.id) == [ids[5], ids[4], ids[2], ids[0]])
            #expect(try await store.list(state: .queued, kind: .fetch, limit: 100).isEmpty)
            #expect(try await store.list(state: .failed, kind: .fetch, limit: 100).map(\.id) == [ids[1]])
        }
    }

    @Test("the before cursor pages through every job once, without overlap")
    func pagination() async throws {
        try await withTemporaryStore { store in
            let ids = try await store.insert((0..<7).map { _ in NewJob.delay() }, now: t0).map(\.id)
            var seen: [JobID] = []
            var cursor: JobID? = nil
            var pages = 0
            while true {
                let page = try await store.list(limit: 3, before: cursor)
                if page.isEmpty { break }
                #expect(page.count <= 3)
                seen += page.map(\.id)
                cursor = page.last?.id
                pages += 1
                try #require(pages <= 10, "pagination does not end")
            }
            #expect(pages == 3)
            #expect(seen == ids.reversed())

            let filtered = try await store.list(state: .queued, limit: 2, before: ids[4])
            #expect(filtered.map(\.id) == [ids[3], ids[2]])
        }
    }

    @Test("counts reports the number of jobs in each state")
    func counts() async throws {
        try await withTemporaryStore { store in
            #expect(try await store.counts() == JobCounts())
            let ids = try await Self.seed(store)
            let claim = try #require(try await store.claim(limit: 1, now: t0).only)
            #expect(claim.id == ids[2])
            _ = try await store.finish(
                claim.id, attemptID: claim.attemptID, end: .succeeded(.delay(DelayResult(value: .null))), now: t0)

            var expected = JobCounts()
            expected.queued = 2
            expected.running = 1
            expected.succeeded = 1
            expected.failed = 1
            expected.cancelled = 1
            #expect(try await store.counts() == expected)
        }
    }

    @Test("earliestRunAt is the smallest run_at among queued jobs, nil when none is queued")
    func earliestRunAt() async throws {
        try await withTemporaryStore { store in
            #expect(try await store.earliestRunAt() == nil)
            let early = try await store.insertOne(.delay(runAt: t0.addingTimeInterval(-60)))
            _ = try await store.insertOne(.delay(runAt: t0.addingTimeInterval(30)))
            _ = try await store.insertOne(.delay(runAt: t0.addingTimeInterval(10)))
            #expect(try await store.earliestRunAt() == t0.addingTimeInterval(-60))

            // Running and cancelled jobs do not count.
            let claim = try #require(try await store.claim(limit: 1, now: t0).only)
            #expect(claim.id == early)
            #expect(try await store.earliestRunAt() == t0.addingTimeInterval(10))

            for job in try await store.list(state: .queued, limit: 10) {
                _ = try await store.cancel(job.id, now: t0)
            }
            #expect(try await store.earliestRunAt() == nil)
        }
    }
}
