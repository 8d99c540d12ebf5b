import Foundation
import JobdModel
import JobdStore
import Testing

/// The cases of issue 13: tags, idempotency keys with a window, fair-share claims.
extension StoreConformance {
    static let sharingCases: [ConformanceCase] = [
        ConformanceCase(
            name: "list by tag: newest first, paged, with the other filters; batch jobs too; pruned jobs go",
            run: tagList),
        ConformanceCase(
            name: "a key with a window is given up once the window passed; a key alone is held for ever",
            run: keyWindow),
        ConformanceCase(
            name: "50 concurrent inserts of one key make one job; after the window, 50 more make exactly one more",
            run: keyWindowRace),
        ConformanceCase(
            name: "fair share: claims take the uids in turn, priority still wins, a short group leaves its share",
            run: fairShareOrder),
    ]

    static func tagged(_ value: Int64, _ tags: [String], submitterUID: UInt32? = nil) -> NewJob {
        var job = delay(value, maxAttempts: 1, submitterUID: submitterUID)
        job.spec.tags = tags
        return job
    }

    static func windowed(_ value: Int64, key: String, window: Double, submitterUID: UInt32? = nil) -> NewJob {
        var job = delay(value, key: key, submitterUID: submitterUID)
        job.spec.keyWindow = window
        return job
    }

    static func tagList(_ store: any JobStore) async throws {
        let ids = try await store.insert(
            [
                tagged(1, ["a", "team:x"], submitterUID: 1), tagged(2, ["team:x"], submitterUID: 1), delay(3),
                tagged(4, ["a"], submitterUID: 2),
            ], now: t0
        ).map(\.id)
        #expect(try await store.list(limit: 10, tag: "a").map(\.id) == [ids[3], ids[0]])
        #expect(try await store.list(limit: 10, tag: "team:x").map(\.id) == [ids[1], ids[0]])
        #expect(try await store.list(limit: 1, tag: "a").map(\.id) == [ids[3]])
        #expect(try await store.list(limit: 10, before: ids[3], tag: "a").map(\.id) == [ids[0]])
        #expect(try await store.list(limit: 10, submitterUID: 1, tag: "a").map(\.id) == [ids[0]])
        #expect(try await store.list(kind: .fetch, limit: 10, tag: "a").isEmpty)
        #expect(try await store.list(limit: 10, tag: "A").isEmpty, "tags compare byte for byte")
        #expect(try await store.list(limit: 10, tag: "nobody").isEmpty)
        #expect(try await store.job(ids[0])?.spec.tags == ["a", "team:x"])

        let batch = try await store.insertBatch(
            NewBatch(jobs: [tagged(5, ["a"])], label: nil, onComplete: nil, submitterUID: nil), maxQueued: nil, now: t0)
        #expect(try await store.list(limit: 10, tag: "a").map(\.id) == [batch.jobIDs[0], ids[3], ids[0]])

        // The first job ends and is pruned: its tags go with it; the others' stay.
        let claims = try await store.claim(limit: 1, now: t0)
        #expect(claims.map(\.id) == [ids[0]])
        #expect(try await store.finish(AttemptFinish(attempt: claims[0].attempt, end: success), now: t0))
        #expect(try await store.list(state: .succeeded, limit: 10, tag: "team:x").map(\.id) == [ids[0]])
        #expect(try await store.prune(finishedBefore: t0 + 1, limit: 10) == 1)
        #expect(try await store.list(limit: 10, tag: "a").map(\.id) == [batch.jobIDs[0], ids[3]])
        #expect(try await store.list(limit: 10, tag: "team:x").map(\.id) == [ids[1]])
        // A later job with the same tags is indexed as the first was.
        let later = try await store.insert([tagged(6, ["a", "team:x"])], now: t0).map(\.id)
        #expect(try await store.list(limit: 10, tag: "team:x").map(\.id) == [later[0], ids[1]])
    }

    static func keyWindow(_ store: any JobStore) async throws {
        // A key without a window holds for as long as its job is stored.
        let forever = try await store.insert([delay(1, key: "f")], now: t0)
        #expect(forever.map(\.created) == [true])
        let years = t0 + 20 * 365 * 86_400
        #expect(
            try await store.insert([delay(2, key: "f")], now: years) == [
                InsertOutcome(id: forever[0].id, created: false)
            ])

        let first = try #require(
            try await store.insert([windowed(3, key: "w", window: 60, submitterUID: 7)], now: t0).first)
        #expect(first.created)
        let within = try await store.insert([windowed(4, key: "w", window: 60, submitterUID: 7)], now: t0 + 59)
        #expect(within == [InsertOutcome(id: first.id, created: false)])
        // Another user's submit within the window is refused, as for any taken key.
        await #expect(throws: StoreError.self) {
            _ = try await store.insert([windowed(5, key: "w", window: 60, submitterUID: 8)], now: t0 + 59)
        }
        // At the end of the window the key moves to a new job; the old one is untouched.
        let after = try #require(
            try await store.insert([windowed(6, key: "w", window: 60, submitterUID: 7)], now: t0 + 60).first)
        #expect(after.created)
        #expect(after.id != first.id)
        let old = try #require(try await store.job(first.id))
        #expect(old.state == .queued)
        #expect(old.spec.key == "w")
        // Repeats within one insert answer the first of them; the new holder answers now.
        let repeated = try await store.insert(
            [windowed(7, key: "w", window: 60, submitterUID: 7), windowed(8, key: "w", window: 60, submitterUID: 7)],
            now: t0 + 61)
        #expect(repeated == [InsertOutcome(id: after.id, created: false), InsertOutcome(id: after.id, created: false)])
        // Once that window passed too, another user may take the key, for ever without a window.
        let taken = try #require(try await store.insert([delay(9, key: "w", submitterUID: 8)], now: t0 + 120).first)
        #expect(taken.created)
        #expect(try await store.insert([delay(10, key: "w", submitterUID: 8)], now: years).first?.id == taken.id)
        await #expect(throws: StoreError.self) {
            _ = try await store.insert([delay(11, key: "w", submitterUID: 7)], now: years)
        }
        #expect(try await store.counts().queued == 4)
    }

    static func keyWindowRace(_ store: any JobStore) async throws {
        func race(at now: Date) async throws -> [InsertOutcome] {
            try await withThrowingTaskGroup(of: InsertOutcome.self) { group in
                for value in 0..<50 {
                    group.addTask {
                        let outcomes = try await store.insert(
                            [windowed(Int64(value), key: "race", window: 30, submitterUID: 5)], now: now)
                        return try #require(outcomes.first)
                    }
                }
                var outcomes: [InsertOutcome] = []
                for try await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
        }
        let first = try await race(at: t0)
        #expect(first.count { $0.created } == 1)
        #expect(Set(first.map(\.id)).count == 1)
        let second = try await race(at: t0 + 30)
        #expect(second.count { $0.created } == 1)
        #expect(Set(second.map(\.id)).count == 1)
        #expect(second.first?.id != first.first?.id)
        #expect(try await store.counts().queued == 2)
    }

    static func fairShareOrder(_ store: any JobStore) async throws {
        let a: UInt32 = 100
        let b: UInt32 = 200
        var backlog: [NewJob] = (0..<20).map { delay(Int64($0), maxAttempts: 1, submitterUID: a) }
        backlog += (0..<3).map { delay(100 + Int64($0), maxAttempts: 1, submitterUID: b) }
        backlog.append(delay(200, maxAttempts: 1))
        backlog.append(delay(300, priority: 9, maxAttempts: 1, submitterUID: a))
        let ids = try await store.insert(backlog, now: t0).map(\.id)
        let aIDs = Array(ids[0..<20])
        let bIDs = Array(ids[20..<23])
        let noUID = ids[23]
        let aHigh = ids[24]
        // Fair share off: queue order, A's backlog first.
        #expect(try await store.claim(limit: 2, now: t0).map(\.id) == [aHigh, aIDs[0]])
        // On: one job per claim, the groups in turn, until B runs out. Which group a round
        // starts with is the engine's (PostgreSQL's rotation goes by uid, SQLite's ranks
        // by id); every round takes one job of each group.
        var order: [JobID] = []
        for _ in 0..<9 {
            order += try await store.claim(limit: 1, now: t0, fairShare: .perUID).map(\.id)
        }
        #expect(Set(order.prefix(3)) == [noUID, aIDs[1], bIDs[0]], "\(order)")
        #expect(Array(order.dropFirst(3)) == [aIDs[2], bIDs[1], aIDs[3], bIDs[2], aIDs[4], aIDs[5]])
        // Priority still wins over the turn.
        let bHigh = try #require(
            try await store.insert([delay(400, priority: 5, maxAttempts: 1, submitterUID: b)], now: t0).first
        ).id
        #expect(try await store.claim(limit: 3, now: t0, fairShare: .perUID).map(\.id) == [bHigh, aIDs[6], aIDs[7]])
        // A claim of many interleaves; a group with one job leaves the rest of its share to
        // the others within the same claim.
        let bLast = try #require(try await store.insert([delay(500, maxAttempts: 1, submitterUID: b)], now: t0).first)
            .id
        let many = try await store.claim(limit: 6, now: t0, fairShare: .perUID).map(\.id)
        #expect(Set(many.prefix(2)) == [bLast, aIDs[8]], "\(many)")
        #expect(Array(many.dropFirst(2)) == [aIDs[9], aIDs[10], aIDs[11], aIDs[12]])
        // Limits still hold: an excluded kind is skipped, the others are taken.
        let fetch = try #require(
            try await store.insert(
                [
                    NewJob(
                        spec: JobSpec(.fetch(FetchSpec(url: "http://x.test/"))), priority: 0, runAt: t0,
                        maxAttempts: 1, timeout: nil, onInterrupt: .retry, submitterUID: b)
                ], now: t0
            ).first
        ).id
        let excluded = try await store.claim(limit: 2, excludingKinds: [.fetch], now: t0, fairShare: .perUID)
        #expect(excluded.map(\.id) == [aIDs[13], aIDs[14]])
        #expect(try await store.claim(limit: 2, now: t0, fairShare: .perUID).map(\.id) == [fetch, aIDs[15]])
        // Jobs not due yet are not claimed, whoever's they are.
        _ = try await store.insert([delay(600, runAt: t0 + 60, maxAttempts: 1, submitterUID: b)], now: t0)
        #expect(try await store.claim(limit: 10, now: t0, fairShare: .perUID).map(\.id) == Array(aIDs[16...]))
    }
}
