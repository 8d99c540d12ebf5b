import Foundation
import JobdModel
import JobdStore
import JobdStoreSQLite
import Testing

@Suite struct JobStoreGroupCommitTests {
    @Test("200 concurrent single-job inserts all commit, sharing transactions")
    func concurrentInsertsShareCommits() async throws {
        try await withTemporaryStore { store async throws in
            let before = store.statistics
            let outcomes = try await withThrowingTaskGroup(of: (Int, InsertOutcome).self) { group in
                for index in 0..<200 {
                    group.addTask {
                        let outcomes = try await store.insert([.delay(value: .int(Int64(index)))], now: t0)
                        return (index, try #require(outcomes.only))
                    }
                }
                return try await group.reduce(into: [Int: InsertOutcome]()) { $0[$1.0] = $1.1 }
            }
            #expect(outcomes.count == 200)
            #expect(outcomes.values.allSatisfy { $0.created })
            #expect(Set(outcomes.values.map(\.id)).count == 200)
            for (index, outcome) in outcomes {
                let record = try await store.requireJob(outcome.id)
                #expect(record.spec.payload == .delay(DelaySpec(seconds: 1, value: .int(Int64(index)))))
            }
            #expect(try await store.counts().queued == 200)

            let after = store.statistics
            #expect(after.operations - before.operations == 200)
            #expect(after.commits - before.commits < 200, "every insert had a transaction of its own")
            #expect(after.commits > before.commits)
        }
    }

    @Test("a failing operation in a group does not roll back the others")
    func failureIsIsolated() async throws {
        try await withTemporaryStore { store async throws in
            // SQLite stores a NaN run_at as NULL, which `run_at NOT NULL` refuses: a per-operation failure.
            let badIndex = 25
            let results = await withTaskGroup(of: (Int, Result<JobID, any Error>).self) { group in
                for index in 0..<50 {
                    group.addTask {
                        let runAt = index == badIndex ? Date(timeIntervalSince1970: .nan) : t0
                        do {
                            return (
                                index,
                                .success(try await store.insertOne(.delay(value: .int(Int64(index)), runAt: runAt)))
                            )
                        } catch {
                            return (index, .failure(error))
                        }
                    }
                }
                return await group.reduce(into: [Int: Result<JobID, any Error>]()) { $0[$1.0] = $1.1 }
            }
            #expect(results.count == 50)
            for (index, result) in results {
                switch result {
                case .success(let id):
                    #expect(index != badIndex)
                    #expect(try await store.requireJob(id).state == .queued)
                case .failure(let error):
                    #expect(index == badIndex, "\(error)")
                    #expect((error as? StoreError)?.code == .sqlite, "\(error)")
                }
            }
            #expect(try await store.counts().queued == 49)
            #expect(try await store.list(limit: 100).count == 49)
        }
    }

    @Test("an operation failing alone in its transaction gets its own error and leaves nothing; the next write works")
    func failureAlone() async throws {
        try await withTemporaryStore { store async throws in
            // One write at a time: each runs alone in its transaction, without a savepoint.
            let before = try await store.insertOne(.delay(value: .int(1)))
            await #expect {
                try await store.insert(
                    [.delay(value: .int(2)), .delay(value: .int(3), runAt: Date(timeIntervalSince1970: .nan))],
                    now: t0)
            } throws: { error in
                (error as? StoreError)?.code == .sqlite
            }
            let after = try await store.insertOne(.delay(value: .int(4)))
            let listed = try await store.list(limit: 10).map(\.id)
            #expect(listed == [after, before], "the failed insert's first job was rolled back with it")
            #expect(try await store.counts().queued == 2)
        }
    }

    @Test("concurrent inserts with one idempotency key create exactly one job")
    func concurrentSameKey() async throws {
        try await withTemporaryStore { store async throws in
            let outcomes = try await withThrowingTaskGroup(of: InsertOutcome.self) { group in
                for _ in 0..<20 {
                    group.addTask { try #require(try await store.insert([.delay(key: "once")], now: t0).only) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter(\.created).count == 1)
            #expect(Set(outcomes.map(\.id)).count == 1)
            #expect(try await store.counts().queued == 1)
        }
    }
}
