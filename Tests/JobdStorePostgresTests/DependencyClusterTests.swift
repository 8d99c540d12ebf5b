import Foundation
import JobdModel
import JobdStore
import JobdStorePostgres
import JobdTestSupport
import Testing

/// Dependencies (`after`) on two nodes that share one database: whichever node ends a
/// parent, and by whichever write, its children are settled in that commit, any node may
/// claim the released ones, and every node hears each transition once.
@Suite struct DependencyClusterTests {
    static let due = Date(timeIntervalSince1970: 1_700_000_000)

    static func job(
        _ value: Int64, after: [JobDependency]? = nil, onInterrupt: InterruptPolicy = .retry
    ) -> NewJob {
        var spec = JobSpec(.delay(DelaySpec(seconds: 0, value: .int(value))))
        spec.after = after
        return NewJob(
            spec: spec, priority: 0, runAt: due, maxAttempts: 1, timeout: nil, onInterrupt: onInterrupt,
            submitterUID: 7)
    }

    static func end(_ claim: ClaimedJob, failing: Bool = false) -> AttemptFinish {
        AttemptFinish(
            attempt: claim.attempt,
            end: failing
                ? .failed(JobError(.jobFailed, "no"), result: nil, retryAt: nil)
                : .succeeded(.delay(DelayResult(value: .null))))
    }

    @Test(
        "node A's finish of a parent releases its children in that commit; node B claims them, and both hear each release once"
    )
    func releaseAcrossNodes() async throws {
        try await withPostgresStore { a, url in
            let b = try await openTestStore(url: url, node: "node-b")
            let (heardByA, heardByB) = (HeardTransitions(a), HeardTransitions(b))
            let parent = try #require(try await a.insert([Self.job(0)], now: Date()).first).id
            let children = try await a.insert((1...50).map { Self.job($0, after: [.job(parent)]) }, now: Date())
                .map(\.id)
            let claim = try #require(try await a.claim(limit: 10).first)
            #expect(claim.id == parent, "only the parent is queued")
            let round = try await a.settle(
                SettleRequest(finishes: [Self.end(claim)], claim: ClaimRequest(limit: 0)))
            #expect(round.recorded == [true])
            #expect(Set(try await b.claim(limit: 100).map(\.id)) == Set(children), "released in the finish's commit")
            for heard in [heardByA, heardByB] {
                let waiting = try await heard.wait(for: 50) { $0 == .waiting }
                #expect(waiting.map(\.jobID) == children)
                let released = try await heard.wait(for: 50) { $0 == .released }
                #expect(released.map(\.jobID) == children, "each release heard once, in order")
                #expect(released.allSatisfy { $0.submitterUID == 7 })
            }
        }
    }

    @Test("a cancel, a batch's cancel and a rescue settle the children at their commit; both nodes hear it once")
    func everyEndSettlesChildren() async throws {
        try await withPostgresStore { a, url in
            let b = try await openTestStore(url: url, node: "node-b")
            let (heardByA, heardByB) = (HeardTransitions(a), HeardTransitions(b))
            // A cancel of a queued parent cancels its chain, however deep.
            let chain = try await a.insert(
                [Self.job(0), Self.job(1, after: [.position(0)]), Self.job(2, after: [.position(1)])], now: Date()
            ).map(\.id)
            #expect(try await b.cancel(chain[0], now: Date()) == .cancelled)
            // A batch's cancel, of a job that a job outside the batch waits for.
            let batch = try await a.insertBatch(
                NewBatch(jobs: [Self.job(3)], label: nil, onComplete: nil, submitterUID: 7), maxQueued: nil,
                now: Date())
            let afterBatch = try #require(
                try await a.insert([Self.job(4, after: [.job(batch.jobIDs[0])])], now: Date()).first
            ).id
            _ = try await b.cancelBatch(batch.id, now: Date())
            // A rescue of node B's attempt, which fails for good (on_interrupt fail).
            let rescued = try #require(try await a.insert([Self.job(5, onInterrupt: .fail)], now: Date()).first).id
            let afterRescued = try #require(
                try await a.insert([Self.job(6, after: [.job(rescued)])], now: Date()).first
            ).id
            #expect(try await b.claim(limit: 1).map(\.id) == [rescued])
            try await b.crashForTesting()
            // Node A's leader may rescue it first: either way the job failed.
            _ = try await a.rescue(now: Date())
            #expect(try await a.job(rescued)?.state == .failed)
            let expected: [(JobID, JobID, JobState)] = [
                (chain[1], chain[0], .cancelled), (chain[2], chain[1], .cancelled),
                (afterBatch, batch.jobIDs[0], .cancelled), (afterRescued, rescued, .failed),
            ]
            for (child, parent, state) in expected {
                let record = try #require(try await a.job(child))
                #expect(record.state == .cancelled, "\(record)")
                #expect(record.error == DependencyTransition.error(parent: parent, state: state))
            }
            let kinds = expected.map {
                DependencyTransition(jobID: $0.0, kind: .failed(parent: $0.1, parentState: $0.2), submitterUID: 7)
            }
            let byA = try await heardByA.wait(for: 4) { if case .failed = $0 { true } else { false } }
            #expect(byA == kinds, "each heard once, in commit order")
            // Node B stopped listening when it crashed: it heard the chain's, perhaps the batch's.
            let byB = try await heardByB.wait(for: 2) { if case .failed = $0 { true } else { false } }
            #expect((2...3).contains(byB.count) && byB == Array(kinds.prefix(byB.count)), "\(byB)")
            // Every job here has ended: pruning them all takes every edge with them.
            let cluster = try await sharedPostgresCluster()
            let database = String(url.split(separator: "/").last?.split(separator: "?").first ?? "")
            let edges = { try await cluster.psql(database, "SELECT count(*) FROM job_dependencies") }
            #expect(try await edges().trimmingCharacters(in: .whitespacesAndNewlines) == "4")
            #expect(try await a.prune(finishedBefore: Date().addingTimeInterval(3600), limit: 100) == 7)
            #expect(try await edges().trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        }
    }

    @Test("children inserted on node A while node B ends their parents are never left waiting")
    func insertRacesParentEnd() async throws {
        try await withPostgresStore { a, url in
            let b = try await openTestStore(url: url, node: "node-b")
            for round in 0..<3 {
                let parents = try await a.insert((0..<40).map { Self.job(Int64($0)) }, now: Date()).map(\.id)
                let claims = try await b.claim(limit: 40)
                #expect(Set(claims.map(\.id)) == Set(parents))
                let failing = round == 1
                let children = try await withThrowingTaskGroup(of: [JobID].self) { group in
                    group.addTask {
                        for claim in claims.sorted(by: { $0.id < $1.id }) {
                            _ = try await b.finish(Self.end(claim, failing: failing))
                        }
                        return []
                    }
                    group.addTask {
                        var ids: [JobID] = []
                        for parent in parents {
                            ids += try await a.insert([Self.job(99, after: [.job(parent)])], now: Date()).map(\.id)
                        }
                        return ids
                    }
                    return try await group.reduce(into: []) { $0 += $1 }
                }
                #expect(children.count == 40)
                for child in children {
                    let record = try #require(try await a.job(child))
                    #expect(record.state == (failing ? .cancelled : .queued), "round \(round): \(record)")
                }
                // Clear the queue for the next round.
                _ = try await a.claim(limit: 100)
            }
        }
    }

    @Test(
        "a chain of 1,000 inserted in one call runs one link a round: each settle's finish releases the next, which the same settle claims"
    )
    func chainOfAThousand() async throws {
        // A long lease: with the test lease of 3 s, a renewal late on a loaded machine makes
        // the node claim nothing for a moment (self-fencing), and a round then claims no link.
        try await withPostgresStore(lease: .seconds(60)) { store, _ in
            let jobs = (0..<1000).map { index in
                Self.job(Int64(index), after: index == 0 ? nil : [.position(index - 1)])
            }
            let ids = try await store.insert(jobs, now: Date()).map(\.id)
            #expect(try await store.counts().waiting == 999)
            #expect(try await store.job(ids[500])?.spec.after == [.job(ids[499])], "positions are stored as ids")
            var running = try #require(try await store.claim(limit: 4).first)
            #expect(running.id == ids[0])
            var rounds: [Duration] = []
            for next in ids.dropFirst() {
                let start = ContinuousClock.now
                let round = try await store.settle(
                    SettleRequest(finishes: [Self.end(running)], claim: ClaimRequest(limit: 4)))
                rounds.append(ContinuousClock.now - start)
                #expect(round.recorded == [true])
                guard round.claimed.map(\.id) == [next] else {
                    Issue.record("the round after job \(running.id) claimed \(round.claimed.map(\.id)), not \(next)")
                    return
                }
                running = round.claimed[0]
            }
            _ = try await store.finish(Self.end(running))
            let counts = try await store.counts()
            #expect(counts.succeeded == 1000 && counts.waiting == 0 && counts.queued == 0)
            // What a link costs in one settle here (debug build, the test machine's database).
            let median = rounds.sorted()[rounds.count / 2]
            print("chain of 1,000: median settle round \(median), slowest \(rounds.max() ?? .zero)")
        }
    }
}
