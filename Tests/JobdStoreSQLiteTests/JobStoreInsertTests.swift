import Foundation
import JobdModel
import JobdStore
import JobdStoreSQLite
import Testing

@Suite struct JobStoreInsertTests {
    @Test("an inserted job reads back queued with its spec and resolved defaults")
    func insertThenRead() async throws {
        try await withTemporaryStore { store in
            let job = NewJob.delay(
                seconds: 2.5, value: .object(["n": 9_007_199_254_740_993]), priority: 4,
                runAt: t0.addingTimeInterval(60), maxAttempts: 5, timeout: 12, onInterrupt: .fail, key: "k1",
                submitterUID: 1000)
            let outcomes = try await store.insert([job], now: t0)
            #expect(outcomes.count == 1)
            let outcome = try #require(outcomes.first)
            #expect(outcome.created)

            let record = try await store.requireJob(outcome.id)
            #expect(record.id == outcome.id)
            #expect(record.kind == .delay)
            #expect(record.state == .queued)
            #expect(record.spec == job.spec)
            #expect(record.priority == 4)
            #expect(record.runAt == t0.addingTimeInterval(60))
            #expect(record.maxAttempts == 5)
            #expect(record.attemptCount == 0)
            #expect(record.createdAt == t0)
            #expect(record.updatedAt == t0)
            #expect(record.finishedAt == nil)
            #expect(record.submitterUID == 1000)
            #expect(record.result == nil)
            #expect(record.error == nil)
            #expect(record.attempts == [])
        }
    }

    @Test("an unknown id reads as nil")
    func unknownID() async throws {
        try await withTemporaryStore { store async throws in
            #expect(try await store.job(12345) == nil)
        }
    }

    @Test("a batch insert returns one created id per job, in order")
    func batchInOrder() async throws {
        try await withTemporaryStore { store async throws in
            let jobs = (0..<5).map { NewJob.delay(value: .int(Int64($0))) } + [NewJob.fetch("https://example.com/x")]
            let outcomes = try await store.insert(jobs, now: t0)
            #expect(outcomes.count == jobs.count)
            #expect(outcomes.allSatisfy { $0.created })
            #expect(outcomes.map(\.id) == outcomes.map(\.id).sorted())
            #expect(Set(outcomes.map(\.id)).count == jobs.count)
            for (outcome, job) in zip(outcomes, jobs) {
                #expect(try await store.requireJob(outcome.id).spec == job.spec)
            }
            #expect(try await store.requireJob(outcomes[5].id).kind == .fetch)
        }
    }

    @Test("an empty insert stores nothing")
    func emptyInsert() async throws {
        try await withTemporaryStore { store async throws in
            #expect(try await store.insert([], now: t0) == [])
            #expect(try await store.counts() == JobCounts())
        }
    }

    @Test("a second insert with the same key returns the first job, not a new one")
    func idempotencyKey() async throws {
        try await withTemporaryStore { store in
            let first = try #require(try await store.insert([.delay(value: "first", key: "same")], now: t0).first)
            let second = try #require(try await store.insert([.delay(value: "second", key: "same")], now: t0).first)
            #expect(first.created)
            #expect(!second.created)
            #expect(second.id == first.id)
            #expect(try await store.requireJob(first.id).spec.payload == .delay(DelaySpec(seconds: 1, value: "first")))
            #expect(try await store.counts().queued == 1)
        }
    }

    @Test("a repeated key inside one batch returns the first job of the batch")
    func idempotencyKeyWithinBatch() async throws {
        try await withTemporaryStore { store async throws in
            let outcomes = try await store.insert(
                [.delay(key: "a"), .delay(key: "b"), .delay(key: "a"), .delay()], now: t0)
            #expect(outcomes.map(\.created) == [true, true, false, true])
            #expect(outcomes[2].id == outcomes[0].id)
            #expect(try await store.counts().queued == 3)
        }
    }

    @Test("a key stays taken after the store is closed and reopened")
    func idempotencyKeyAcrossReopen() async throws {
        try await withTemporaryDatabasePath { path in
            let first = try SQLiteJobStore(path: path)
            let original = try await first.insertOne(.delay(key: "durable"))
            try first.close()

            let second = try SQLiteJobStore(path: path)
            defer { try? second.close() }
            let again = try #require(try await second.insert([.delay(key: "durable")], now: t0).first)
            #expect(!again.created)
            #expect(again.id == original)
        }
    }

    @Test("a batch with an unstorable job stores none of the batch")
    func batchIsAtomic() async throws {
        try await withTemporaryStore { store async throws in
            // SQLite stores NaN as NULL, which `run_at NOT NULL` refuses.
            let bad = NewJob.delay(runAt: Date(timeIntervalSince1970: .nan))
            await expectStoreError(.sqlite) { _ = try await store.insert([.delay(), bad, .delay()], now: t0) }
            #expect(try await store.counts() == JobCounts())
            #expect(try await store.list(limit: 10).isEmpty)
        }
    }
}
