import Foundation
import JobdModel
import JobdTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Real jobd nodes on one real PostgreSQL (a private cluster of the test process), driven by
/// the real jobctl.
@Suite(.timingSensitive) struct ClusterTests {
    @Test("3 nodes: jobs submitted round-robin all succeed; a wait on one node sees another's finish")
    func threeNodes() async throws {
        try await withPostgres { url in
            let nodes = try await startNodes(3, url: url)
            defer { for node in nodes { node.cleanUp() } }
            var ids: [String] = []
            for index in 0..<30 {
                let node = nodes[index % 3]
                let output = try await node.jobctl(["submit", "delay", "0.2", "--value", "\(index)"])
                #expect(output.status == 0, "\(output)")
                ids.append(output.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            // Each job waited for on the node after the one it was submitted to.
            for (index, id) in ids.enumerated() {
                let waiter = nodes[(index + 1) % 3]
                let output = try await waiter.jobctl(["wait", id])
                #expect(output.status == 0, "\(output)")
                let record = try await waiter.jobctlJSON(JobRecord.self, ["status", id])
                #expect(record.state == .succeeded)
                #expect(record.result == .delay(DelayResult(value: .int(Int64(index)))))
            }
            // Any node lists the whole cluster, with one leader.
            let listed = try await nodes[2].jobctlJSON(NodeListResponse.self, ["nodes"])
            #expect(listed.engine == "postgres")
            #expect(Set(listed.nodes.filter(\.alive).map(\.name)) == ["node-0", "node-1", "node-2"])
            #expect(listed.nodes.filter(\.leader).count == 1)
            let table = try await nodes[0].jobctl(["nodes"])
            #expect(table.status == 0 && table.stdout.contains("alive, leader"), "\(table)")
            for node in nodes {
                let status = try await node.stop()
                #expect(status == 0, "log:\n\(node.log())")
            }
        }
    }

    @Test("a node killed with SIGKILL: the leader rescues its attempts within node.lease + 2 s and runs them")
    func killedNodeIsRescued() async throws {
        try await withPostgres { url in
            let first = try await startNodes(1, url: url, lease: 3)[0]
            defer { first.cleanUp() }
            // One batch, and delays long enough that a loaded machine still finds all three
            // running on the first node when it dies.
            let specs = (0..<3).map { #"{"kind":"delay","seconds":8,"value":\#($0)}"# }
            let submitted = try await first.jobctl(
                ["submit", "--file", "-"], stdin: specs.joined(separator: "\n") + "\n")
            #expect(submitted.status == 0, "\(submitted)")
            let ids = submitted.stdout.split(separator: "\n").map(String.init)
            #expect(ids.count == 3, "\(submitted)")
            // Every job is running on the first node before the second joins.
            try await waitUntil("the first node runs every job") {
                try await first.jobctlJSON(StatsResponse.self, ["stats"]).running == 3
            }
            let second = try await startNodes(1, url: url, lease: 3, first: 1)[0]
            defer { second.cleanUp() }
            let killedAt = Date()
            try await first.stop(signal: SIGKILL)
            var rescueSeconds: [Double] = []
            for id in ids {
                let output = try await second.jobctl(["wait", id, "--timeout", "30"])
                #expect(output.status == 0, "\(output)\nlog:\n\(second.log())")
                let record = try await second.jobctlJSON(JobRecord.self, ["status", id])
                #expect(record.state == .succeeded)
                let outcomes = record.attempts?.map(\.outcome) ?? []
                #expect(outcomes == [.interrupted, .succeeded], "a job ran twice only after an interrupted attempt")
                if let rescued = record.attempts?.first?.finishedAt {
                    rescueSeconds.append(rescued.timeIntervalSince(killedAt))
                }
            }
            let slowest = rescueSeconds.max() ?? .infinity
            print("rescue after SIGKILL: \(rescueSeconds.map { String(format: "%.2f s", $0) }) (lease 3 s)")
            // node.lease + 2 s (JOBDTEST_STRICT_TIMING=1); a loaded machine gets more.
            let bound = TimingBound.seconds(strict: 3 + 2, loose: 3 + 15)
            #expect(slowest <= bound, "rescued \(slowest) s after the kill; the bound is \(bound) s")
            #expect(try await second.stop() == 0)
        }
    }

    @Test("pause on one node pauses the cluster, also a node that joins later; resume on another resumes it")
    func clusterWidePause() async throws {
        try await withPostgres { url in
            var nodes = try await startNodes(2, url: url)
            defer { for node in nodes { node.cleanUp() } }
            #expect(try await nodes[0].jobctl(["pause"]).status == 0)
            try await waitUntil("node-1 hears the pause") {
                try await nodes[1].jobctlJSON(StatsResponse.self, ["stats"]).paused
            }
            nodes += try await startNodes(1, url: url, first: 2)
            #expect(try await nodes[2].jobctlJSON(StatsResponse.self, ["stats"]).paused, "a joining node starts paused")
            let id = try await nodes[2].jobctl(["submit", "delay", "0"]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
            // No node starts it while paused: a bounded wait ends with the job still queued.
            let waited = try await nodes[1].jobctl(["wait", id, "--timeout", "1.5"])
            #expect(waited.status == 1 && waited.stderr.contains("not finished"), "\(waited)")
            #expect(try await nodes[0].jobctlJSON(JobRecord.self, ["status", id]).state == .queued)
            #expect(try await nodes[1].jobctl(["resume"]).status == 0)
            let done = try await nodes[0].jobctl(["wait", id, "--timeout", "30"])
            #expect(done.status == 0, "\(done)")
            for node in nodes {
                #expect(try await !node.jobctlJSON(StatsResponse.self, ["stats"]).paused)
                #expect(try await node.stop() == 0, "log:\n\(node.log())")
            }
        }
    }

    @Test("a cancel on one node stops the attempt another runs, and leaves no note behind for a later attempt")
    func crossNodeCancel() async throws {
        try await withPostgres { url in
            let nodes = try await startNodes(2, url: url)
            defer { for node in nodes { node.cleanUp() } }
            let id = try await nodes[1].jobctl(["submit", "delay", "4", "--value", "7"]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
            var runner = ""
            try await waitUntil("the job runs") {
                let record = try await nodes[0].jobctlJSON(JobRecord.self, ["status", id])
                runner = record.attempts?.last?.node ?? ""
                return record.state == .running
            }
            let (running, canceller) = runner == "node-0" ? (nodes[0], nodes[1]) : (nodes[1], nodes[0])
            let cancelled = try await canceller.jobctl(["cancel", id])
            #expect(cancelled.status == 0, "\(cancelled)")
            _ = try await canceller.jobctl(["wait", id, "--timeout", "30"])
            let record = try await canceller.jobctlJSON(JobRecord.self, ["status", id])
            #expect(record.state == .cancelled, "\(record)")
            #expect(record.attempts?.last?.outcome == .cancelled)
            // Only the canceller is left: the retried job runs there, to its end.
            #expect(try await running.stop() == 0, "log:\n\(running.log())")
            #expect(try await canceller.jobctl(["retry", id]).status == 0)
            let waited = try await canceller.jobctl(["wait", id, "--timeout", "30"])
            #expect(waited.status == 0, "the retry was cancelled by a stale note: \(waited)\n\(canceller.log())")
            #expect(try await canceller.stop() == 0, "log:\n\(canceller.log())")
        }
    }

    @Test("PostgreSQL unreachable at start: exit 1 naming the server; a bad URL: exit 78")
    func startFailures() async throws {
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        let port = try PostgresCluster.freePort()
        let unreachable = try await run(
            Binaries.jobd,
            [
                "--socket", daemon.socketPath, "--database-url",
                "postgres://jobd@127.0.0.1:\(port)/jobd?sslmode=disable",
            ],
            environment: ["JOBD_CONFIG": "/dev/null"], timeout: .seconds(60))
        #expect(unreachable.status == 1, "\(unreachable)")
        #expect(unreachable.stderr.contains("127.0.0.1:\(port)"), "\(unreachable)")
        let bad = try await run(
            Binaries.jobd, ["--socket", daemon.socketPath, "--database-url", "mysql://x@y/z"],
            environment: ["JOBD_CONFIG": "/dev/null"])
        #expect(bad.status == 78, "\(bad)")
        #expect(bad.stderr.contains("database.url"), "\(bad)")
    }

    @Test("--check-config shows the database URL with the password masked")
    func checkConfigMasksPassword() async throws {
        let output = try await run(
            Binaries.jobd, ["--check-config", "--database-url", "postgres://jobd:s3cret@db.example:5433/jobs"],
            environment: ["JOBD_CONFIG": "/dev/null"])
        #expect(output.status == 0, "\(output)")
        #expect(output.stdout.contains("postgres://jobd:****@db.example:5433/jobs"), "\(output)")
        #expect(!output.stdout.contains("s3cret"))
    }
}
