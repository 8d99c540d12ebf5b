import Foundation
import JobdModel
import JobdStore
import Synchronization
import Testing

/// The dependency cases of the conformance suite (issue 12): `after`, the `waiting` state,
/// `dependency_failed`, and releases that cost O(children).
extension StoreConformance {
    static let dependencyCases: [ConformanceCase] = [
        ConformanceCase(
            name: "a job waits for its parents and is claimable in the round that ends the last one",
            run: dependencyRelease),
        ConformanceCase(
            name: "a failed parent cancels the waiting chain with dependency_failed; on_dependency_failure run runs",
            run: dependencyFailure),
        ConformanceCase(
            name:
                "positions resolve to ids; a failed parent cancels at insert; an unknown or foreign parent refuses all",
            run: dependencyInsert),
        ConformanceCase(
            name: "a cancelled parent cancels its waiting descendants; 2,000 children are released in one commit",
            run: dependencyFanOut),
    ]

    static func child(
        _ value: Int64, after: [JobDependency], policy: DependencyFailurePolicy? = nil, submitterUID: UInt32? = nil
    ) -> NewJob {
        var job = delay(value, maxAttempts: 1, submitterUID: submitterUID)
        job.spec.after = after
        job.spec.onDependencyFailure = policy
        return job
    }

    /// Collects the feed's dependency transitions (on PostgreSQL some arrive through the
    /// database's notifications, a moment after the commit).
    final class Transitions: Sendable {
        let seen = Mutex<[DependencyTransition]>([])

        init(_ store: any JobStore) {
            store.subscribe { [weak self] change in
                if case .dependencies(let list) = change { self?.seen.withLock { $0 += list } }
            }
        }

        /// Waits up to 10 s until `condition` holds for what came so far.
        func wait(_ condition: ([DependencyTransition]) -> Bool) async throws -> [DependencyTransition] {
            let deadline = ContinuousClock.now + .seconds(10)
            while !condition(seen.withLock { $0 }), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            return seen.withLock { $0 }
        }
    }

    static func dependencyRelease(_ store: any JobStore) async throws {
        let transitions = Transitions(store)
        let parents = try await store.insert([delay(1, maxAttempts: 1), delay(2, maxAttempts: 1)], now: t0).map(\.id)
        let childID = try #require(
            try await store.insert([child(3, after: parents.map { .job($0) })], now: t0).first
        ).id
        #expect(try await store.job(childID)?.state == .waiting)
        #expect(try await store.job(parents[0])?.children == [childID])
        #expect(try await store.counts().waiting == 1)
        let claims = try await store.claim(limit: 10, now: t0)
        #expect(claims.map(\.id) == parents, "a waiting job is never claimed")
        try await finishAll(store, [claims[0]]) { _ in success }
        #expect(try await store.job(childID)?.state == .waiting, "one parent is still running")
        // The dispatcher's round: the instant taken when the claim runs, after the release
        // (`nowAtClaim`), t0 being only the earliest.
        let before = Date()
        let round = try await store.settle(
            SettleRequest(
                finishes: [AttemptFinish(attempt: claims[1].attempt, end: success)],
                claim: ClaimRequest(limit: 5, now: t0, nowAtClaim: true)))
        #expect(round.claimed.map(\.id) == [childID], "released and claimed in the round of its last parent's end")
        let started = try #require(try await store.job(childID)?.attempts?.first).startedAt
        #expect(
            started.timeIntervalSince(before) >= -0.001,
            "the attempt is dated when its claim ran (\(started)), not at the request's instant")
        let seen = try await transitions.wait { $0.count >= 2 }
        #expect(
            seen == [
                DependencyTransition(jobID: childID, kind: .waiting, submitterUID: nil),
                DependencyTransition(jobID: childID, kind: .released, submitterUID: nil),
            ])
    }

    static func dependencyFailure(_ store: any JobStore) async throws {
        let transitions = Transitions(store)
        let ids = try await store.insert(
            [
                delay(0, maxAttempts: 1), child(1, after: [.position(0)]), child(2, after: [.position(1)]),
                child(3, after: [.position(0)], policy: .run),
            ], now: t0
        ).map(\.id)
        let parent = try #require(try await store.claim(limit: 5, now: t0).first)
        #expect(parent.id == ids[0])
        try await finishAll(store, [parent]) { _ in .failed(JobError(.jobFailed, "boom"), result: nil, retryAt: nil) }
        for id in ids[1...2] {
            let record = try #require(try await store.job(id))
            #expect(record.state == .cancelled && record.error?.code == .dependencyFailed, "\(record)")
            #expect(record.attempts?.isEmpty == true, "it never ran")
        }
        #expect(try await store.job(ids[1])?.error?.message.contains("job \(ids[0]) failed") == true)
        #expect(try await store.job(ids[2])?.error?.message.contains("job \(ids[1]) was cancelled") == true)
        #expect(try await store.job(ids[3])?.state == .queued, "on_dependency_failure run runs it anyway")
        let seen = try await transitions.wait { list in list.contains { $0.jobID == ids[2] && $0.kind != .waiting } }
        #expect(seen.contains(DependencyTransition(jobID: ids[3], kind: .released, submitterUID: nil)))
        #expect(
            seen.contains(
                DependencyTransition(
                    jobID: ids[2], kind: .failed(parent: ids[1], parentState: .cancelled), submitterUID: nil)))
    }

    static func dependencyInsert(_ store: any JobStore) async throws {
        let failed = try #require(try await store.insert([delay(0, maxAttempts: 1, submitterUID: 7)], now: t0).first).id
        let claim = try #require(try await store.claim(limit: 1, now: t0).first)
        try await finishAll(store, [claim]) { _ in .failed(JobError(.jobFailed, "no"), result: nil, retryAt: nil) }
        let ids = try await store.insert(
            [
                child(1, after: [.position(1)], submitterUID: 7), delay(2, maxAttempts: 1, submitterUID: 7),
                child(3, after: [.job(failed)], submitterUID: 7),
            ], now: t0
        ).map(\.id)
        let first = try #require(try await store.job(ids[0]))
        #expect(first.state == .waiting && first.spec.after == [.job(ids[1])], "positions are stored as ids")
        let doomed = try #require(try await store.job(ids[2]))
        #expect(doomed.state == .cancelled && doomed.error?.code == .dependencyFailed)
        let before = try await store.counts()
        for (after, uid, field) in [
            ([JobDependency.job(JobID(987_654))], UInt32(7), "jobs[1].after[0]"),
            ([.job(ids[1])], UInt32(8), "jobs[1].after[0]"),
        ] {
            do {
                _ = try await store.insert(
                    [delay(4, submitterUID: uid), child(5, after: after, submitterUID: uid)], now: t0)
                Issue.record("an after naming \(after) was stored for uid \(uid)")
            } catch let error as StoreError {
                #expect(error.code == .unknownDependency && error.field == field, "\(error)")
            }
        }
        #expect(try await store.counts() == before, "nothing of a refused insert is stored")
    }

    static func dependencyFanOut(_ store: any JobStore) async throws {
        let parents = try await store.insert([delay(0, maxAttempts: 1), delay(1, maxAttempts: 1)], now: t0).map(\.id)
        _ = try await store.insert((0..<2000).map { child(Int64($0), after: [.job(parents[0])]) }, now: t0)
        let chain = try await store.insert(
            [child(0, after: [.job(parents[1])]), child(1, after: [.position(0)]), child(2, after: [.position(1)])],
            now: t0
        ).map(\.id)
        #expect(try await store.counts().waiting == 2003)
        // A cancel of a queued parent cancels its waiting descendants, however deep.
        #expect(try await store.cancel(parents[1], now: t0) == .cancelled)
        for id in chain {
            #expect(try await store.job(id)?.error?.code == .dependencyFailed)
        }
        let claim = try #require(try await store.claim(limit: 1, now: t0).first)
        #expect(claim.id == parents[0])
        let commits = store.statistics.commits
        try await finishAll(store, [claim]) { _ in success }
        #expect(store.statistics.commits == commits + 1, "the parent's end and 2,000 releases are one transaction")
        let counts = try await store.counts()
        #expect(counts.waiting == 0 && counts.queued == 2000)
    }
}
