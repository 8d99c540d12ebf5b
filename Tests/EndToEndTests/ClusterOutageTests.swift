import Foundation
import JobdModel
import JobdTestSupport
import Synchronization
import Testing

/// jobd nodes while their PostgreSQL goes away and comes back: a private cluster of the
/// test's own (it is restarted), three real nodes, the real jobctl.
@Suite(.timingSensitive) struct ClusterOutageTests {
    /// One submit's outcome during the outage: the HTTP status and body.
    struct Submitted: Sendable {
        var node: Int
        var status: Int
        var body: String
    }

    /// `POST /v1/jobs` on its own thread (a plain request: processes spawned by the
    /// hundred from three loops at once are what Foundation's `Process` does worst). A
    /// connection that fails or an answer that does not come within 30 s is status 0.
    static func submit(_ socket: String, node: Int, value: String) -> Submitted {
        let body = #"{"kind":"delay","seconds":0.1,"value":"\#(value)"}"#
        let request =
            "POST /v1/jobs HTTP/1.1\r\nHost: jobd\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        guard let response = try? rawHTTP(socketPath: socket, request, timeout: 30),
            let line = response.split(separator: "\r\n").first,
            let status = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return Submitted(node: node, status: 0, body: "") }
        return Submitted(node: node, status: status, body: httpBody(of: response))
    }

    /// Waits until every node has accepted a submit since `since` results were logged.
    private func waitUntilEveryNodeAccepts(_ log: SubmitLog) async throws {
        let since = log.results.withLock { $0.count }
        try await waitUntil("every node accepts submits again", deadline: .seconds(60)) {
            let after = log.results.withLock { $0.dropFirst(since) }
            return (0..<3).allSatisfy { node in after.contains { $0.node == node && $0.status == 201 } }
        }
    }

    /// The submit loops' outcomes, and their stop flag.
    final class SubmitLog: Sendable {
        let stop = Atomic<Bool>(false)
        let results = Mutex<[Submitted]>([])
    }

    @Test(
        "pg_ctl restart -m fast, then a stop and a start, under 3 nodes: submits get 201 or 503, every accepted job ends, the nodes carry on"
    )
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
                    let value = "\(index)-\(sequence)"
                    let result = await withCheckedContinuation { continuation in
                        Thread.detachNewThread {
                            continuation.resume(returning: Self.submit(node.socketPath, node: index, value: value))
                        }
                    }
                    log.results.withLock { $0.append(result) }
                    sequence += 1
                }
            }
        }
        try await waitUntil("the submit loops are under way") { log.results.withLock { $0.count } >= 3 }
        let restartedAt = ContinuousClock.now
        try await cluster.restart()
        print("pg_ctl restart -m fast took \(ContinuousClock.now - restartedAt)")
        try await waitUntilEveryNodeAccepts(log)
        // A longer outage, so submits surely meet it: down until one is refused with 503.
        try await cluster.stop()
        try await waitUntil("a submit is refused while PostgreSQL is down", deadline: .seconds(60)) {
            log.results.withLock { $0.contains { $0.status != 201 } }
        }
        try await cluster.startAgain()
        try await waitUntilEveryNodeAccepts(log)
        log.stop.store(true, ordering: .relaxed)
        for loop in loops { await loop.value }
        let all = log.results.withLock { $0 }
        var refused = 0
        for result in all {
            if result.status == 201 {
                let id = try JSONCodingForTests.decoder.decode(JobRecord.self, from: Data(result.body.utf8)).id
                accepted.append(String(describing: id))
            } else {
                refused += 1
                #expect(
                    result.status == 503 && result.body.contains("database_unavailable"),
                    "node \(result.node): a submit failed other than by 503 database_unavailable: \(result)")
            }
        }
        print("submits during the outages: \(all.count), accepted \(all.count - refused), refused with 503 \(refused)")
        #expect(refused > 0, "no submit met the outage")
        // Every accepted job ends, seen from any node (one jobctl per 200 jobs).
        for (index, start) in stride(from: 0, to: accepted.count, by: 200).enumerated() {
            let node = nodes[index % 3]
            let ids = Array(accepted[start..<min(start + 200, accepted.count)])
            let output = try await node.jobctl(["wait"] + ids + ["--timeout", "60"])
            #expect(output.status == 0, "jobs \(ids.first ?? "")…: \(output)\nlog:\n\(node.log())")
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
