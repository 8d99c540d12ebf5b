import Foundation
import JobdModel
import JobdTestSupport
import Testing

/// Schedules on a cluster (issue 13): two nodes on one real PostgreSQL declare the same
/// schedule; the leader fires it, each slot exactly once, also when the leader dies.
@Suite(.timingSensitive) struct ClusterScheduleTests {
    @Test("two nodes, one schedule: each slot fires exactly once, across the leader's death")
    func onceAcrossNodes() async throws {
        try await withPostgres { url in
            let startedAt = Date()
            var nodes: [TestDaemon] = []
            defer { for node in nodes { node.cleanUp() } }
            for index in 0..<2 {
                let node = try TestDaemon()
                nodes.append(node)
                try ScheduleTests.config([(name: "tick", missed: "skip")])
                    .write(to: node.directory.appendingPathComponent("jobd.yaml"), atomically: true, encoding: .utf8)
                try await node.start(
                    ["--database-url", url, "--node-name", "node-\(index)"], environment: ["JOBD_NODE_LEASE": "3"])
            }
            // The first slot, fired by whichever node leads.
            var fired: [JobSummary] = []
            try await ScheduleTests.sleepPastBoundary(after: startedAt)
            try await waitUntil("the first slot fired", deadline: .seconds(90)) {
                fired = try await ScheduleTests.fired("tick", in: nodes[1])
                return !fired.isEmpty
            }
            let first = try #require(fired.first.flatMap { ScheduleTests.slot(of: $0) })
            let cluster = try await nodes[0].jobctlJSON(NodeListResponse.self, ["nodes"])
            let leaderName = try #require(cluster.nodes.first { $0.leader && $0.alive }?.name, "\(cluster)")
            let leader = leaderName == "node-0" ? 0 : 1
            let survivor = 1 - leader
            // The leader dies; the other node takes over within a lease and fires the next slot.
            kill(try #require(nodes[leader].process?.processIdentifier), SIGKILL)
            let second = first.addingTimeInterval(60)
            try await ScheduleTests.sleepPastBoundary(after: first)
            try await waitUntil("the next slot fired on the surviving node", deadline: .seconds(90)) {
                fired = try await ScheduleTests.fired("tick", in: nodes[survivor])
                return fired.contains { ScheduleTests.slot(of: $0) == second }
            }
            // A moment for a duplicate to show, if there were to be one.
            try await Task.sleep(for: .seconds(2))
            fired = try await ScheduleTests.fired("tick", in: nodes[survivor])
            let slots = fired.compactMap { ScheduleTests.slot(of: $0) }
            let shown = slots.map { RFC3339.string(from: $0) }
            print("ClusterScheduleTests: slots fired \(shown) across a leader change \(leaderName) → node-\(survivor)")
            #expect(slots.filter { $0 == first }.count == 1)
            #expect(slots.filter { $0 == second }.count == 1)
            #expect(Set(slots).count == slots.count, "no slot twice: \(slots)")
            let late = try #require(fired.first { ScheduleTests.slot(of: $0) == second }).createdAt.timeIntervalSince(
                second)
            #expect(late >= 0 && late < TimingBound.seconds(strict: 1, loose: 10), "second slot fired \(late) s late")
            #expect(try await nodes[survivor].stop() == 0)
        }
    }
}
