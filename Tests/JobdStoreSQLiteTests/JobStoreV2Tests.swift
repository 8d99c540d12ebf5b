import Foundation
import GRDB
import JobdModel
import JobdStore
import JobdStoreSQLite
import Testing

/// Schema v2 features: the v1 upgrade, host limits in claims, release, retry, prune, max_queued.
@Suite struct JobStoreV2Tests {
    @Test("a database written by schema v1 opens, migrates to the current schema, and keeps every job")
    func upgradeFromV1() async throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/v1.sqlite")
        try await withTemporaryDatabasePath { path in
            try FileManager.default.copyItem(atPath: fixture.path, toPath: path)
            let store = try SQLiteJobStore(path: path)
            defer { try? store.close() }
            let jobs = try await store.list(limit: 100)
            #expect(jobs.map(\.id) == [5, 4, 3, 2, 1])
            #expect(try await store.requireJob(1).result == .delay(DelayResult(value: "v1 value")))
            #expect(try await store.requireJob(2).error == JobError(.jobFailed, "v1 failure"))
            #expect(try await store.requireJob(3).error?.code == .connectFailed)
            // The fixture was taken from a killed daemon: job 4 was running.
            #expect(try await store.requireJob(4).state == .running)
            let recovery = try await store.rescue()
            #expect(recovery.requeuedJobs == 1)
            #expect(try await store.requireJob(4).state == .queued)
            let identifiers = try await store.migrationIdentifiers()
            #expect(identifiers == ["v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9"])
        }
    }

    @Test("claims skip excluded kinds and hosts and take the jobs behind them")
    func exclusions() async throws {
        try await withTemporaryStore { store in
            let slow = try await store.insert([.fetch("http://slow.test/a"), .fetch("http://slow.test/b")], now: t0)
            let other = try await store.insertOne(.fetch("https://Other.test/"), now: t0)
            let delay = try await store.insertOne(.delay(), now: t0)
            let claimed = try await store.claim(
                limit: 10, excludingKinds: [.delay], excludingHosts: ["slow.test:80"], now: t0)
            #expect(claimed.map(\.id) == [other])
            #expect(claimed.first?.host == "other.test:443")
            let rest = try await store.claim(limit: 10, now: t0)
            #expect(Set(rest.map(\.id)) == Set(slow.map(\.id) + [delay]))
        }
    }

    @Test("release puts a claim back as if it never happened")
    func release() async throws {
        try await withTemporaryStore { store in
            let claim = try await store.insertAndClaim()
            try await store.release([claim.attempt], now: t0)
            let record = try await store.requireJob(claim.id)
            #expect(record.state == .queued)
            #expect(record.attemptCount == 0)
            #expect(record.attempts == [])
            let again = try #require(try await store.claim(limit: 1, now: t0).first)
            #expect(again.attemptNumber == 1)
        }
    }

    @Test("retry renews the budget of a finished job and refuses an unfinished one")
    func retry() async throws {
        try await withTemporaryStore { store in
            let claim = try await store.insertAndClaim(.delay(maxAttempts: 2))
            _ = try await store.finish(
                claim.id, attemptID: claim.attemptID,
                end: .failed(JobError(.jobFailed, "x"), result: nil, retryAt: nil), now: t0)
            #expect(try await store.retry(claim.id, defaultMaxAttempts: 1, now: t0) == .requeued)
            let record = try await store.requireJob(claim.id)
            #expect(record.state == .queued)
            #expect(record.maxAttempts == 3)
            #expect(record.error == nil)
            #expect(record.finishedAt == nil)
            #expect(try await store.retry(claim.id, defaultMaxAttempts: 1, now: t0) == .notFinished(.queued))
            #expect(try await store.retry(JobID(999), defaultMaxAttempts: 1, now: t0) == .notFound)
        }
    }

    @Test("prune deletes finished jobs before the cutoff with their attempts, in batches")
    func prune() async throws {
        try await withTemporaryStore { store in
            var finished: [JobID] = []
            for _ in 0..<5 {
                let claim = try await store.insertAndClaim()
                _ = try await store.finish(
                    claim.id, attemptID: claim.attemptID, end: .succeeded(.delay(DelayResult(value: 1))), now: t0)
                finished.append(claim.id)
            }
            let queued = try await store.insertOne(.delay(runAt: t0.addingTimeInterval(3600)))
            #expect(try await store.prune(finishedBefore: t0, limit: 10) == 0)
            #expect(try await store.prune(finishedBefore: t0.addingTimeInterval(1), limit: 3) == 3)
            #expect(try await store.prune(finishedBefore: t0.addingTimeInterval(1), limit: 3) == 2)
            #expect(try await store.requireJob(queued).state == .queued)
            #expect(try await store.attemptRowCount() == 0)
        }
    }

    @Test("max_queued refuses the whole insert that would pass it")
    func maxQueued() async throws {
        try await withTemporaryStore { store in
            _ = try await store.insert([.delay(), .delay()], maxQueued: 3, now: t0)
            await #expect(throws: StoreError.self) {
                _ = try await store.insert([.delay(), .delay()], maxQueued: 3, now: t0)
            }
            #expect(try await store.counts().queued == 2)
            _ = try await store.insert([.delay()], maxQueued: 3, now: t0)
            #expect(try await store.counts().queued == 3)
        }
    }
}

extension SQLiteJobStore {
    /// The applied migrations, in order (test-only peek at GRDB's table).
    func migrationIdentifiers() async throws -> [String] {
        let queue = try DatabaseQueue(path: path)
        return try await queue.read { db in
            try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid")
        }
    }

    func attemptRowCount() async throws -> Int {
        let queue = try DatabaseQueue(path: path)
        return try await queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM attempts") ?? 0 }
    }
}
