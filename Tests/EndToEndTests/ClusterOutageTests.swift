import Foundation
import JobdModel
import JobdTestSupport
import Synchronization
import Testing

/// jobd nodes while their PostgreSQL goes away and comes back: a private cluster of the
/// test's own (it is restarted), three real nodes, the real jobctl.
@Suite(.timingSensitive) struct ClusterOutageTests {
    /// One submit's outcome during the outage.
    struct Submitted: Sendable {
        var node: Int
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The submit loops' outcomes, and their stop flag.
    final class SubmitLog: Sendable {
        let stop = Atomic<Bool>(false)
        let results = Mutex<[Submitted]>([])
    }

    @Test("pg_ctl restart -m fast under 3 nodes: submits get 201 or 503, every accepted job ends, the nodes carry on")
    func restartDuringRun() async throws {
        let cluster = try await PostgresCluster.start()
        do {
            try await restartDuringRun(cluster)
        } catch {
            await cluster.destroy()
            throw error
        }
        await cluster.destroy()
    }

    private func restartDuringRun(_ cluster: PostgresCluster) async throws {
        try await cluster.createDatabase("jobd")
        let url = cluster.url(database: "jobd")
        let nodes = try await startNodes(3, url: url)
        defer { for node in nodes { node.cleanUp() } }
        // Work in flight across the outage: its outcomes wait in memory until the database is back.
        var accepted: [String] = []
        for (index, node) in nodes.enumerated() {
            let specs = (0..<4).map { #"{"kind":"delay","seconds":1.5,"value":"before-\#(index)-\#($0)"}"# }
            let output = try await node.jobctl(["submit", "--file", "-"], stdin: specs.joined(separator: "\n") + "\n")
            #expect(output.status == 0, "\(output)")
            accepted += output.stdout.split(separator: "\n").map(String.init)
        }
        // A submit loop on every node while the database restarts.
        let log = SubmitLog()
        let loops = nodes.enumerated().map { index, node in
            Task {
                var sequence = 0
                while !log.stop.load(ordering: .relaxed) {
                    let output = try await node.jobctl(
                        ["submit", "delay", "0.1", "--value", "\(index)-\(sequence)"], timeout: .seconds(40))
                    log.results.withLock {
                        $0.append(
                            Submitted(node: index, status: output.status, stdout: output.stdout, stderr: output.stderr))
                    }
                    sequence += 1
                }
            }
        }
        try await Task.sleep(for: .milliseconds(500))
        let restartedAt = ContinuousClock.now
        try await cluster.restart()
        print("pg_ctl restart -m fast took \(ContinuousClock.now - restartedAt)")
        // Submits go on until every node has accepted one after the restart.
        try await waitUntil("every node accepts submits again", deadline: .seconds(60)) {
            let after = log.results.withLock { $0 }
            return (0..<3).allSatisfy { node in after.suffix(30).contains { $0.node == node && $0.status == 0 } }
        }
        log.stop.store(true, ordering: .relaxed)
        for loop in loops { try await loop.value }
        let all = log.results.withLock { $0 }
        var refused = 0
        for result in all {
            if result.status == 0 {
                accepted.append(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            } else {
                refused += 1
                #expect(
                    result.status == 1 && result.stderr.contains("database_unavailable"),
                    "node \(result.node): a submit failed other than by 503 database_unavailable: \(result)")
            }
        }
        print("submits during the restart: \(all.count), accepted \(all.count - refused), refused with 503 \(refused)")
        // Every accepted job ends, seen from any node.
        for (index, id) in accepted.enumerated() {
            let node = nodes[index % 3]
            let output = try await node.jobctl(["wait", id, "--timeout", "60"])
            #expect(output.status == 0, "job \(id): \(output)\nlog:\n\(node.log())")
        }
        // The nodes never restarted: the same processes still serve, each one runs a new job.
        for node in nodes {
            let output = try await node.jobctl(["submit", "delay", "0", "--wait"])
            #expect(output.status == 0, "\(output)\nlog:\n\(node.log())")
        }
        for node in nodes {
            #expect(try await node.stop() == 0, "log:\n\(node.log())")
        }
    }
}
