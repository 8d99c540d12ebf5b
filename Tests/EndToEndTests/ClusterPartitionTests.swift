import Foundation
import JobdModel
import JobdTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A node cut off from PostgreSQL by a network namespace: it fences itself, the leader
/// rescues its attempts, and its late finishes are refused when the link comes back.
@Suite(.timingSensitive) struct ClusterPartitionTests {
    static let lease = 3.0
    /// What the leader writes on the attempts it rescues (PostgresJobStore+Rescue).
    static let rescueMessage = "the node running this attempt stopped renewing its lease"

    @Test(
        "a node cut off from PostgreSQL stops its attempts by its lease's end; the leader rescues them; its late finishes are refused and it rejoins",
        .enabled(
            if: NetworkPartition.isAvailable,
            "needs root, iproute2 and network namespaces: skipped, the partition test did not run"))
    func partitionedNode() async throws {
        let partition = try NetworkPartition()
        defer { partition.destroy() }
        let cluster = try await PostgresCluster.start(
            alsoListenOn: [partition.hostAddress], trustedClients: ["\(partition.nodeAddress)/32"])
        do {
            try await partitionedNode(partition, cluster)
        } catch {
            await cluster.destroy()
            throw error
        }
        await cluster.destroy()
    }

    private func partitionedNode(_ partition: NetworkPartition, _ cluster: PostgresCluster) async throws {
        try await cluster.createDatabase("jobd")
        let environment = ["JOBD_NODE_LEASE": "\(Int(Self.lease))"]
        // Node A, on the host, leads; one worker, busy with a blocker, so node B runs the rest.
        let a = try TestDaemon()
        defer { a.cleanUp() }
        try await a.start(
            ["--database-url", cluster.url(database: "jobd"), "--node-name", "node-a", "--workers", "1"],
            environment: environment)
        let blocker = try await a.jobctl(["submit", "delay", "120"]).stdout.trimmingCharacters(
            in: .whitespacesAndNewlines)
        try await waitUntil("node A runs the blocker") {
            try await a.jobctlJSON(JobRecord.self, ["status", blocker]).state == .running
        }
        // Node B, in the namespace, reaches PostgreSQL over the veth pair.
        let b = try TestDaemon()
        defer { b.cleanUp() }
        try await b.start(
            [
                "--database-url", "postgres://jobd@\(partition.hostAddress):\(cluster.port)/jobd?sslmode=disable",
                "--node-name", "node-b",
            ], environment: environment, launcher: partition.launcher)
        let specs = (0..<4).map { #"{"kind":"delay","seconds":6,"value":\#($0)}"# }
        let submitted = try await b.jobctl(["submit", "--file", "-"], stdin: specs.joined(separator: "\n") + "\n")
        #expect(submitted.status == 0, "\(submitted)")
        let ids = submitted.stdout.split(separator: "\n").map(String.init)
        do {
            try await waitUntil("node B runs all four") {
                for id in ids {
                    let record = try await b.jobctlJSON(JobRecord.self, ["status", id])
                    guard record.state == .running, record.attempts?.last?.node == "node-b" else { return false }
                }
                return true
            }
        } catch {
            Issue.record("node B:\n\(b.log())\nnode A:\n\(a.log())")
            throw error
        }

        let cutAt = Date()
        try partition.cut()
        // Node A may take the jobs over once it has slots.
        #expect(try await a.jobctl(["workers", "8"]).status == 0)
        var rescuedAt: [Date] = []
        for id in ids {
            let output = try await a.jobctl(["wait", id, "--timeout", "60"])
            #expect(output.status == 0, "\(output)\nnode A:\n\(a.log())")
            let record = try await a.jobctlJSON(JobRecord.self, ["status", id])
            #expect(record.state == .succeeded)
            let attempts = record.attempts ?? []
            #expect(attempts.map(\.outcome) == [.interrupted, .succeeded], "\(attempts)")
            #expect(attempts.map(\.node) == ["node-b", "node-a"])
            #expect(attempts.first?.error?.message == Self.rescueMessage, "the leader's rescue, not B's own end")
            if let at = attempts.first?.finishedAt { rescuedAt.append(at) }
        }
        // Node B stopped its attempts by the end of its lease, before the leader rescued them.
        let fencedAt = try #require(Self.logTime(of: "this node's lease ran out", in: b.log()), "\(b.log())")
        let stopped = fencedAt.timeIntervalSince(cutAt)
        let rescued = (rescuedAt.max() ?? .distantFuture).timeIntervalSince(cutAt)
        print(
            String(
                format:
                    "partition: node B stopped its attempts %.2f s after the cut, the leader rescued them %.2f s after (lease %.0f s)",
                stopped, rescued, Self.lease))
        // The strict bounds are node.lease + 0.5 s and + 2 s (TimingBound); the safety
        // itself, B stopped before anything was rescued, is the ordering below.
        #expect(
            stopped <= TimingBound.seconds(strict: Self.lease + 0.5, loose: Self.lease + 10),
            "node B ran on \(stopped) s without its lease")
        #expect(fencedAt <= (rescuedAt.min() ?? .distantPast), "an attempt was rescued while node B still ran it")
        #expect(
            rescued <= TimingBound.seconds(strict: Self.lease + 2, loose: Self.lease + 15),
            "rescued \(rescued) s after the cut; the bound is node.lease + 2 s")

        // The link comes back: B's late ends are refused, and B joins again.
        try partition.heal()
        try await waitUntil("node B's late ends are written and refused", deadline: .seconds(60)) {
            b.log().components(separatedBy: "outcome dropped (fenced)").count - 1 >= 4
        }
        try await waitUntil("node B is alive again", deadline: .seconds(60)) {
            try await a.jobctlJSON(NodeListResponse.self, ["nodes"]).nodes.contains { $0.name == "node-b" && $0.alive }
        }
        for id in ids {
            let record = try await a.jobctlJSON(JobRecord.self, ["status", id])
            #expect(record.state == .succeeded && record.attempts?.count == 2, "a late finish changed job \(id)")
            #expect(record.attempts?.first?.error?.message == Self.rescueMessage)
        }
        let after = try await b.jobctl(["submit", "delay", "0", "--wait"])
        #expect(after.status == 0, "node B serves again: \(after)\n\(b.log())")
        _ = try await a.jobctl(["cancel", blocker])
        #expect(try await b.stop() == 0, "node B:\n\(b.log())")
        #expect(try await a.stop() == 0, "node A:\n\(a.log())")
    }

    /// The time of the first log line containing `text` (logfmt `ts=`).
    static func logTime(of text: String, in log: String) -> Date? {
        guard let line = log.split(separator: "\n").first(where: { $0.contains(text) }),
            let field = line.split(separator: " ").first(where: { $0.hasPrefix("ts=") })
        else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: String(field.dropFirst(3)))
    }
}
