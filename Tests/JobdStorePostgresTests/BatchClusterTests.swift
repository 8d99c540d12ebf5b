import Foundation
import JobdModel
import JobdStore
import JobdStoreConformance
import JobdStorePostgres
import JobdTestSupport
import Testing

/// Batches on two nodes that share one database: whichever node writes the last end of a
/// batch's jobs, the database's trigger ends the batch once and queues its `on_complete`
/// job once, and every node hears the end once.
@Suite struct BatchClusterTests {
    static let onComplete = NewJob(
        spec: JobSpec(.fetch(FetchSpec(url: "http://127.0.0.1:9/done/{batch_id}"))), priority: 0,
        runAt: Date(timeIntervalSince1970: 1_795_616_704), maxAttempts: 1, timeout: nil, onInterrupt: .retry,
        submitterUID: 7)

    static func batch(label: String, size: Int) -> NewBatch {
        let jobs = (0..<size).map { value in
            NewJob(
                spec: JobSpec(.delay(DelaySpec(seconds: 0, value: .int(Int64(value))))), priority: 0,
                runAt: Date(timeIntervalSince1970: 1_795_616_704), maxAttempts: 1, timeout: nil, onInterrupt: .retry,
                submitterUID: 7)
        }
        return NewBatch(jobs: jobs, label: label, onComplete: onComplete, submitterUID: 7)
    }

    /// Records the ends of `chunks`, one settle each; a chunk's finishes go in the order
    /// given (the store sorts them by job id itself).
    static func finish(_ chunks: [[ClaimedJob]], on store: PostgresJobStore, failing: Set<JobID>) async throws -> Int {
        var recorded = 0
        for chunk in chunks {
            let finishes = chunk.map { claim in
                AttemptFinish(
                    attempt: claim.attempt,
                    end: failing.contains(claim.id)
                        ? .failed(JobError(.jobFailed, "no"), result: nil, retryAt: nil)
                        : .succeeded(.delay(DelayResult(value: .null))))
            }
            let outcome = try await store.settle(SettleRequest(finishes: finishes, claim: ClaimRequest(limit: 0)))
            recorded += outcome.recorded.filter { $0 }.count
        }
        return recorded
    }

    @Test(
        "two nodes finishing halves of the same batches at once end each batch once, queue on_complete once, and both hear it once"
    )
    func concurrentHalves() async throws {
        try await withPostgresStore { a, url in
            let b = try await openTestStore(url: url, node: "node-b")
            let (heardByA, heardByB) = (Completions(a), Completions(b))
            let cluster = try await sharedPostgresCluster()
            let database = String(url.split(separator: "/").last?.split(separator: "?").first ?? "")
            var expected: [BatchCompletion] = []
            for round in 0..<3 {
                // Two batches, so every settle holds ends of both and the trigger updates
                // both batch rows.
                let x = try await a.insertBatch(Self.batch(label: "x\(round)", size: 100), maxQueued: nil, now: Date())
                let y = try await b.insertBatch(Self.batch(label: "y\(round)", size: 100), maxQueued: nil, now: Date())
                // Claims go in id order: each node takes half of each batch.
                var claimsA: [[ClaimedJob]] = []
                var claimsB: [[ClaimedJob]] = []
                for _ in 0..<2 {
                    claimsA.append(try await a.claim(limit: 50))
                    claimsB.append(try await b.claim(limit: 50))
                }
                #expect(Set((claimsA[0] + claimsB[0]).map(\.id)) == Set(x.jobIDs))
                #expect(Set((claimsA[1] + claimsB[1]).map(\.id)) == Set(y.jobIDs))
                // 25 settles a node, each with two ends of each batch; node A lists them
                // newest first, node B oldest first: unsorted, their batch locks would be
                // taken in opposite orders.
                func chunks(_ claims: [[ClaimedJob]], reversed: Bool) -> [[ClaimedJob]] {
                    (0..<25).map { index in
                        let chunk = Array(claims[0][index * 2..<index * 2 + 2] + claims[1][index * 2..<index * 2 + 2])
                        return reversed ? chunk.reversed() : chunk
                    }
                }
                let failing: Set<JobID> = [y.jobIDs[60]]
                let (chunksA, chunksB) = (chunks(claimsA, reversed: true), chunks(claimsB, reversed: false))
                let recorded = try await withThrowingTaskGroup(of: Int.self) { group in
                    group.addTask { try await Self.finish(chunksA, on: a, failing: failing) }
                    group.addTask { try await Self.finish(chunksB, on: b, failing: failing) }
                    return try await group.reduce(0, +)
                }
                #expect(recorded == 200)
                expected += [
                    BatchCompletion(batchID: x.id, state: .succeeded, onCompleteID: x.onCompleteID, submitterUID: 7),
                    BatchCompletion(batchID: y.id, state: .failed, onCompleteID: y.onCompleteID, submitterUID: 7),
                ]
                let endedX = try #require(try await b.batch(x.id))
                #expect(endedX.state == .succeeded && endedX.counts.succeeded == 100 && endedX.finishedAt != nil)
                let endedY = try #require(try await a.batch(y.id))
                #expect(endedY.state == .failed && endedY.counts.succeeded == 99 && endedY.counts.failed == 1)
                let counters = try await cluster.psql(
                    database, "SELECT pending, failed FROM batches WHERE id IN (\(x.id), \(y.id)) ORDER BY id")
                #expect(counters.split(separator: "\n") == ["0|0", "0|1"])
                // Each on_complete was queued once: one claim takes both, the other none.
                let callbacks = try await a.claim(limit: 10)
                #expect(Set(callbacks.map(\.id)) == Set([x.onCompleteID, y.onCompleteID].compactMap { $0 }))
                #expect(try await b.claim(limit: 10).isEmpty)
            }
            for heard in [heardByA, heardByB] {
                let completions = try await heard.wait(for: expected.count)
                #expect(completions.count == expected.count)
                #expect(Set(completions) == Set(expected))
            }
        }
    }

    @Test("batches submitted at once on two nodes get id ranges that never interleave, in batch id order")
    func batchRangesDoNotInterleave() async throws {
        try await withPostgresStore { a, url in
            let b = try await openTestStore(url: url, node: "node-b")
            let outcomes = try await withThrowingTaskGroup(of: BatchInsertOutcome?.self) { group in
                for index in 0..<12 {
                    let store = index % 2 == 0 ? a : b
                    group.addTask {
                        try await store.insertBatch(
                            Self.batch(label: "b\(index)", size: 300), maxQueued: nil, now: Date())
                    }
                    // Plain inserts at the same time may take ids inside a batch's range.
                    group.addTask {
                        _ = try await store.insert(
                            Self.batch(label: "", size: 50).jobs, maxQueued: nil, now: Date())
                        return nil
                    }
                }
                return try await group.reduce(into: []) { $0 += [$1].compactMap { $0 } }
            }
            let sorted = outcomes.sorted { $0.id < $1.id }
            #expect(sorted.count == 12)
            for (earlier, later) in zip(sorted, sorted.dropFirst()) {
                let earlierIDs = earlier.jobIDs + [earlier.onCompleteID].compactMap { $0 }
                let laterIDs = later.jobIDs + [later.onCompleteID].compactMap { $0 }
                #expect(earlierIDs.max()! < laterIDs.min()!, "batch \(earlier.id) and batch \(later.id) interleave")
            }
        }
    }
}
