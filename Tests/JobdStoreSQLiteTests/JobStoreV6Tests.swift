import Foundation
import GRDB
import JobdModel
import JobdStore
import JobdStoreSQLite
import Testing

/// Schema v6 (issue 13): the upgrade from a v5 database, the tag index's life, and the
/// fair-share claim's plans.
@Suite struct JobStoreV6Tests {
    @Test(
        "a database written by schema v5 migrates to v6: its jobs stay, an old key holds for ever, fair claims see them"
    )
    func upgradeFromV5() async throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/v5.sqlite")
        try await withTemporaryDatabasePath { path in
            try FileManager.default.copyItem(atPath: fixture.path, toPath: path)
            let store = try SQLiteJobStore(path: path)
            defer { try? store.close() }
            #expect(try await store.migrationIdentifiers() == ["v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9"])
            #expect(try await store.list(limit: 10).map(\.id) == [3, 2, 1])
            #expect(try await store.requireJob(3).result == .delay(DelayResult(value: "v5 value")))
            // The key of job 1 was stored without a window: it holds for ever.
            var keyed = NewJob.delay(key: "old", submitterUID: 7)
            keyed.spec.keyWindow = 1
            #expect(try await store.insert([keyed], now: t0 + 86_400) == [InsertOutcome(id: 1, created: false)])
            // Jobs 1 and 2 (uids 7 and 8) are in the fair-share index, and a new one joins them.
            let id = try await store.insertOne(.delay(submitterUID: 7))
            let claimed = try await store.claim(limit: 3, now: t0 + 1, fairShare: .perUID)
            #expect(claimed.map(\.id) == [1, 2, id])
        }
    }

    @Test(
        "one queue index at a time: jobs_fair while fair share is on, jobs_queue while off; a claim builds the one it needs"
    )
    func queueIndexes() async throws {
        try await withTemporaryDatabasePath { path in
            func indexes() async throws -> [String] {
                try await DatabaseQueue(path: path).read { db in
                    try String.fetchAll(
                        db,
                        sql: """
                            SELECT name FROM sqlite_master WHERE name IN ('jobs_queue', 'jobs_fair') ORDER BY name
                            """)
                }
            }
            do {
                let store = try SQLiteJobStore(path: path)
                defer { try? store.close() }
                #expect(try await indexes() == ["jobs_queue"], "the schema's")
                _ = try await store.insert([.delay(submitterUID: 1), .delay(submitterUID: 2)], now: t0)
                #expect(try await store.claim(limit: 1, now: t0, fairShare: .perUID).count == 1)
                #expect(try await indexes() == ["jobs_fair", "jobs_queue"], "the first fair claim built jobs_fair")
            }
            do {
                let store = try SQLiteJobStore(path: path, options: SQLiteStoreOptions(fairShare: .perUID))
                defer { try? store.close() }
                #expect(try await indexes() == ["jobs_fair"], "an open with per_uid keeps jobs_fair alone")
                #expect(try await store.claim(limit: 1, now: t0, fairShare: .perUID).count == 1)
            }
            do {
                let store = try SQLiteJobStore(path: path, options: SQLiteStoreOptions(fairShare: .perUID))
                defer { try? store.close() }
                _ = try await store.insertOne(.delay(submitterUID: 3))
                #expect(try await store.claim(limit: 1, now: t0).count == 1, "a plain claim builds jobs_queue")
                #expect(try await indexes() == ["jobs_fair", "jobs_queue"])
            }
            let store = try SQLiteJobStore(path: path, options: SQLiteStoreOptions(fairShare: .off))
            try store.close()
            #expect(try await indexes() == ["jobs_queue"], "an open with off keeps jobs_queue alone")
        }
    }

    @Test("a pruned job's tags leave the tag index; another job's stay")
    func pruneRemovesTags() async throws {
        try await withTemporaryStore { store in
            var tagged = NewJob.delay()
            tagged.spec.tags = ["a", "b"]
            let pruned = try await store.insertOne(tagged)
            let kept = try await store.insertOne(tagged)
            let claim = try #require(try await store.claim(limit: 1, now: t0).first)
            #expect(claim.id == pruned)
            let end = AttemptEnd.succeeded(.delay(DelayResult(value: .null)))
            #expect(try await store.finish(AttemptFinish(attempt: claim.attempt, end: end), now: t0))
            #expect(try await store.tagRows() == ["a \(pruned)", "a \(kept)", "b \(pruned)", "b \(kept)"])
            #expect(try await store.prune(finishedBefore: t0 + 1, limit: 10) == 1)
            #expect(try await store.tagRows() == ["a \(kept)", "b \(kept)"])
        }
    }

    @Test("a fair-share claim walks jobs_fair and ranks the due jobs from jobs_unranked, never a sort")
    func fairShareClaimPlan() async throws {
        try await withTemporaryStore(options: SQLiteStoreOptions(fairShare: .perUID)) { store in
            let plan = try await store.fairShareClaimPlan()
            #expect(plan.contains { $0.contains("jobs_fair") })
            #expect(plan.contains { $0.contains("jobs_unranked") })
            #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(plan)")
            #expect(!plan.contains { $0.hasPrefix("SCAN jobs") && !$0.contains("INDEX") }, "\(plan)")
        }
    }

    @Test("a list by tag walks the tag index, not the jobs")
    func tagListPlan() async throws {
        try await withTemporaryStore { store in
            let plan = try await DatabaseQueue(path: store.path).read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        EXPLAIN QUERY PLAN SELECT jobs.id FROM job_tags t CROSS JOIN jobs ON jobs.id = t.job_id
                        WHERE t.tag = 'a' AND t.job_id < 10 ORDER BY t.job_id DESC LIMIT 5
                        """
                ).map { $0["detail"] as String }
            }
            #expect(plan.first?.contains("SEARCH t USING PRIMARY KEY") == true, "\(plan)")
            #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(plan)")
        }
    }
}

extension SQLiteJobStore {
    /// Every row of `job_tags` as "tag id", in key order (test-only peek at the table).
    fileprivate func tagRows() async throws -> [String] {
        try await DatabaseQueue(path: path).read { db in
            try String.fetchAll(db, sql: "SELECT tag || ' ' || job_id FROM job_tags ORDER BY tag, job_id")
        }
    }
}
