import Foundation
import JobdModel
import JobdStore
import JobdStorePostgres
import JobdTestSupport
import Testing

/// Issue 13 across nodes sharing one database: a key with a window is taken by exactly one
/// of many concurrent inserts on three nodes, before and after its window; fair-share claims
/// made at once on two nodes take different jobs, each in turns of uids.
@Suite struct SharingClusterTests {
    static let t0 = Date(timeIntervalSince1970: 1_795_616_704)

    static func job(_ value: Int, key: String? = nil, window: Double? = nil, uid: UInt32) -> NewJob {
        NewJob(
            spec: JobSpec(
                .delay(DelaySpec(seconds: 0, value: .int(Int64(value)))), key: key, keyWindow: window),
            priority: 0, runAt: t0, maxAttempts: 1, timeout: nil, onInterrupt: .retry, submitterUID: uid)
    }

    /// 60 inserts of one key, spread over `nodes`, all at once, each at `now`.
    static func race(_ nodes: [PostgresJobStore], at now: Date) async throws -> [InsertOutcome] {
        try await withThrowingTaskGroup(of: InsertOutcome.self) { group in
            for value in 0..<60 {
                let node = nodes[value % nodes.count]
                group.addTask {
                    let outcomes = try await node.insert(
                        [job(value, key: "nightly", window: 60, uid: 7)], maxQueued: nil, now: now)
                    return try #require(outcomes.first)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    @Test("60 concurrent inserts of one key on three nodes make one job; after its window, 60 more make one more")
    func keyWindowAcrossNodes() async throws {
        try await withPostgresStore { a, url in
            let nodes = [
                a, try await openTestStore(url: url, node: "node-b"), try await openTestStore(url: url, node: "node-c"),
            ]
            for round in 0..<3 {
                // Each round starts when the last round's window has passed.
                let now = Self.t0 + Double(round) * 60
                let outcomes = try await Self.race(nodes, at: now)
                #expect(outcomes.count { $0.created } == 1, "round \(round)")
                #expect(Set(outcomes.map(\.id)).count == 1, "round \(round): every insert answers the one job")
                #expect(try await a.counts().queued == round + 1)
            }
            // The two older jobs gave up the key; the newest holds it.
            let holders = try await a.list(limit: 10)
            #expect(holders.count == 3)
            #expect(holders.allSatisfy { $0.spec.key == "nightly" })
        }
    }

    @Test("fair-share claims made at once on two nodes take different jobs, each claim in turns of uids")
    func fairClaimsAcrossNodes() async throws {
        try await withPostgresStore { a, url in
            let b = try await openTestStore(url: url, node: "node-b")
            let backlog = (0..<200).map { Self.job($0, uid: 100) } + (0..<40).map { Self.job(1000 + $0, uid: 200) }
            _ = try await a.insert(backlog, maxQueued: nil, now: Self.t0)
            async let fromA = a.claim(limit: 20, now: Self.t0, fairShare: .perUID)
            async let fromB = b.claim(limit: 20, now: Self.t0, fairShare: .perUID)
            let (claimsA, claimsB) = try await (fromA, fromB)
            #expect(claimsA.count == 20 && claimsB.count == 20)
            #expect(Set(claimsA.map(\.id)).isDisjoint(with: claimsB.map(\.id)), "SKIP LOCKED: no job twice")
            for claims in [claimsA, claimsB] {
                let uids = claims.map { $0.submitterUID ?? 0 }
                #expect(uids.count { $0 == 100 } == 10 && uids.count { $0 == 200 } == 10, "\(uids)")
                #expect(zip(uids, uids.dropFirst()).allSatisfy { $0 != $1 }, "turns alternate: \(uids)")
            }
        }
    }
}
