import Foundation
import GRDB
import JobdModel
import JobdStore
import JobdStoreSQLite
import Testing

/// Fair share on SQLite by ranks (`FairRanks`): what the conformance case does not reach,
/// the virtual time, the jobs ranked late (retries, delayed jobs) and a reopen.
@Suite struct FairRanksTests {
    static let perUID = SQLiteStoreOptions(fairShare: .perUID)

    /// `count` single-job fair claims at `now`.
    static func claimOneByOne(_ count: Int, from store: SQLiteJobStore, now: Date = t0) async throws -> [JobID] {
        var order: [JobID] = []
        for _ in 0..<count {
            order += try await store.claim(limit: 1, now: now, fairShare: .perUID).map(\.id)
        }
        return order
    }

    /// `count` delay jobs of `uid`, due at `runAt`, inserted at `t0` in one call.
    static func backlog(
        _ count: Int, of uid: UInt32, in store: SQLiteJobStore, runAt: Date = t0
    ) async throws -> [JobID] {
        try await store.insert((0..<count).map { _ in .delay(runAt: runAt, submitterUID: uid) }, now: t0).map(\.id)
    }

    @Test("a submitter that was idle starts at the virtual time: its early job gives it no credit over a backlog")
    func idleSavesNoCredit() async throws {
        try await withTemporaryStore(options: Self.perUID) { store in
            let early = try await store.insertOne(.delay(submitterUID: 2))
            #expect(try await Self.claimOneByOne(1, from: store) == [early])
            let a = try await Self.backlog(100, of: 1, in: store)
            #expect(try await Self.claimOneByOne(50, from: store) == Array(a[0..<50]))
            // B's one earlier job does not let its three new ones go ahead of A's together.
            let b = try await Self.backlog(3, of: 2, in: store)
            #expect(
                try await Self.claimOneByOne(7, from: store) == [a[50], b[0], a[51], b[1], a[52], b[2], a[53]])
        }
    }

    @Test("a retry leaves the ranked range for its backoff and is ranked again when due, behind who waited")
    func retryIsRankedWhenDue() async throws {
        try await withTemporaryStore(options: Self.perUID) { store in
            let a = try await Self.backlog(4, of: 1, in: store)
            let b = try await Self.backlog(4, of: 2, in: store)
            let first = try #require(try await store.claim(limit: 1, now: t0, fairShare: .perUID).first)
            #expect(first.id == a[0])
            let retryAt = t0.addingTimeInterval(10)
            #expect(
                try await store.finish(
                    AttemptFinish(
                        attempt: first.attempt,
                        end: .failed(JobError(.jobFailed, "boom"), result: nil, retryAt: retryAt)), now: t0))
            // In its backoff it is not claimed, and it does not stand in the claims' way.
            #expect(try await Self.claimOneByOne(2, from: store) == [b[0], a[1]])
            // Due again, it is ranked as A's newest job: after A's queued ones.
            #expect(
                try await Self.claimOneByOne(6, from: store, now: retryAt) == [b[1], a[2], b[2], a[3], b[3], a[0]])
        }
    }

    @Test("a delayed job is ranked when due; a large backlog not yet due costs the claim no walk")
    func delayedJobsJoinWhenDue() async throws {
        try await withTemporaryStore(options: Self.perUID) { store in
            let later = t0.addingTimeInterval(60)
            _ = try await Self.backlog(2000, of: 1, in: store, runAt: later)
            let b = try await Self.backlog(3, of: 2, in: store)
            #expect(try await Self.claimOneByOne(4, from: store) == b)
            let plan = try await store.fairShareClaimPlan()
            #expect(plan.contains { $0.contains("jobs_unranked") }, "\(plan)")
            // At `later`, A's jobs are ranked (oldest first) and B's new one takes turns with them.
            let c = try await store.insertOne(.delay(runAt: later, submitterUID: 2), now: later)
            let claimed = try await store.claim(limit: 4, now: later, fairShare: .perUID)
            #expect(claimed.count == 4)
            #expect(claimed.filter { $0.submitterUID == 1 }.count == 3)
            #expect(claimed.contains { $0.id == c })
            #expect(claimed.first?.submitterUID == 1 && claimed[1].id == c, "\(claimed.map(\.id))")
        }
    }

    @Test("the ranks outlive a restart: the turns go on where they were, and a newcomer joins the next round")
    func ranksSurviveReopen() async throws {
        try await withTemporaryDatabasePath { path in
            var a: [JobID] = []
            var b: [JobID] = []
            do {
                let store = try SQLiteJobStore(path: path, options: Self.perUID)
                defer { try? store.close() }
                a = try await Self.backlog(6, of: 1, in: store)
                b = try await Self.backlog(6, of: 2, in: store)
                #expect(try await Self.claimOneByOne(4, from: store) == [a[0], b[0], a[1], b[1]])
            }
            let store = try SQLiteJobStore(path: path, options: Self.perUID)
            defer { try? store.close() }
            let c = try await store.insertOne(.delay(submitterUID: 3))
            #expect(try await Self.claimOneByOne(5, from: store) == [a[2], b[2], c, a[3], b[3]])
        }
    }

    @Test("jobs queued while fair share was off are ranked by the first fair claim, submitters in turn")
    func switchFromOff() async throws {
        try await withTemporaryDatabasePath { path in
            var a: [JobID] = []
            var b: [JobID] = []
            do {
                let store = try SQLiteJobStore(path: path, options: SQLiteStoreOptions(fairShare: .off))
                defer { try? store.close() }
                a = try await Self.backlog(3, of: 1, in: store)
                b = try await Self.backlog(3, of: 2, in: store)
            }
            let store = try SQLiteJobStore(path: path, options: Self.perUID)
            defer { try? store.close() }
            #expect(try await Self.claimOneByOne(6, from: store) == [a[0], b[0], a[1], b[1], a[2], b[2]])
        }
    }
}
