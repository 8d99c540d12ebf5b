import Foundation
import JobdClient
import JobdModel
import JobdTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Waits and events across nodes: a job finished by one node is heard at once on the others.
@Suite(.heavy) struct ClusterWaitTests {
    /// Jobs per wave; each is waited for on both nodes at once, within the client's
    /// connection limit per socket.
    static let wave = 25

    @Test(
        "a wait on node A returns within 100 ms of node B's finish (p99 over 1,000 jobs); watch on A shows B's events")
    func crossNodeWaits() async throws {
        try await withPostgres { url in
            let nodes = try await startNodes(2, url: url)
            defer { for node in nodes { node.cleanUp() } }
            let watch = try BackgroundProcess(Binaries.jobctl, ["watch", "--json", "--socket", nodes[0].socketPath])
            defer { watch.cleanUp() }
            let jobs = Int(ProcessInfo.processInfo.environment["JOBDTEST_CLUSTER_WAIT_JOBS"] ?? "") ?? 1000
            var latencies: [Double] = []
            var localLatencies: [Double] = []
            var ranOn: [String: Int] = [:]
            var watchedFromB: JobID?
            try await JobdClient.withClient(socketPath: nodes[0].socketPath) { a in
                try await JobdClient.withClient(socketPath: nodes[1].socketPath) { b in
                    while latencies.count < jobs {
                        let specs = (0..<Self.wave).map { index in
                            JobSpec(
                                .delay(DelaySpec(seconds: 0.2 + Double(index % 5) * 0.02, value: .int(Int64(index)))))
                        }
                        // Half of each wave submitted to each node.
                        let half = Self.wave / 2
                        let ids =
                            try await a.submit(batch: Array(specs.prefix(half)))
                            + b.submit(batch: Array(specs.dropFirst(half)))
                        let returns = try await waitOnBoth(ids, [nodes[0].socketPath, nodes[1].socketPath])
                        for (id, answers) in returns {
                            // The wait on the node that did not run the job is the cross-node one.
                            guard let record = answers.first?.record, let runner = record.attempts?.last?.node,
                                let finished = record.finishedAt
                            else {
                                Issue.record("job \(id) has no finish or node: \(answers)")
                                continue
                            }
                            ranOn[runner, default: 0] += 1
                            let other = runner == "node-0" ? 1 : 0
                            guard let answer = answers.first(where: { $0.node == other }) else { continue }
                            #expect(answer.record.state == .succeeded)
                            latencies.append(answer.returnedAt.timeIntervalSince(finished))
                            if let local = answers.first(where: { $0.node != other }) {
                                localLatencies.append(local.returnedAt.timeIntervalSince(finished))
                            }
                            if runner == "node-1" { watchedFromB = id }
                        }
                    }
                }
            }
            let sorted = latencies.sorted()
            let p99 = sorted[max(0, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)]
            let p50 = sorted[sorted.count / 2]
            print(
                "cross-node wait after the finish over \(sorted.count) jobs: p50 \(ms(p50)), p99 \(ms(p99)), "
                    + "max \(ms(sorted.last ?? 0)); on the node that ran it: p50 \(ms(median(localLatencies))); "
                    + "ran on \(ranOn)")
            // The bound is 100 ms for release binaries on a quiet machine
            // (JOBD_BIN_DIR=<release> JOBDTEST_STRICT_TIMING=1; measured p99 19 ms, see
            // docs/postgres.md). The debug build's PostgresNIO is several times slower and CI
            // shares 2 cores with other suites (p99 0.4 s seen there), so there it is 3 s:
            // still far below the wait's 30 s that a lost notification would fall back to.
            let bound = TimingBound.seconds(strict: 0.100, loose: 3.0)
            #expect(p99 <= bound, "p99 \(ms(p99)) over the bound \(ms(bound))")
            // Node A's watcher saw the events of a job that node B ran.
            let watched = try #require(watchedFromB, "node B ran none of the jobs: \(ranOn)")
            let sawAll = try await watch.waitForOutput(timeout: .seconds(20)) { text in
                let mine = text.split(separator: "\n").filter { $0.contains(#""job_id":\#(watched),"#) }
                return ["submitted", "started", "succeeded"].allSatisfy { type in
                    mine.contains { $0.contains(#""type":"\#(type)""#) }
                }
            }
            #expect(
                sawAll, "watch on node A missed events of job \(watched) run by node B: \(watch.output().suffix(2000))")
            kill(watch.processIdentifier, SIGINT)
            _ = try await watch.wait(timeout: .seconds(10))
            for node in nodes {
                #expect(try await node.stop() == 0, "log:\n\(node.log())")
            }
        }
    }

    /// One wait's answer: which node answered, what, and when it returned.
    struct Answer: Sendable, CustomStringConvertible {
        var node: Int
        var record: JobRecord
        var returnedAt: Date
        var description: String { "node \(node): \(record.state) at \(returnedAt)" }
    }

    /// Waits for every job on both nodes at once. Each wait is a plain HTTP request on a
    /// thread of its own, timed when its answer has arrived whole: the figure is jobd's,
    /// not a busy client's.
    private func waitOnBoth(_ ids: [JobID], _ sockets: [String]) async throws -> [JobID: [Answer]] {
        try await withThrowingTaskGroup(of: (JobID, Answer).self) { group in
            for id in ids {
                for (node, socket) in sockets.enumerated() {
                    group.addTask { (id, try await Self.wait(id, socket: socket, node: node)) }
                }
            }
            var answers: [JobID: [Answer]] = [:]
            for try await (id, answer) in group { answers[id, default: []].append(answer) }
            return answers
        }
    }

    private static func wait(_ id: JobID, socket: String, node: Int) async throws -> Answer {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(
                    with: Result {
                        let response = try rawHTTP(
                            socketPath: socket,
                            "GET /v1/jobs/\(id)/wait?timeout=30 HTTP/1.1\r\nHost: jobd\r\nConnection: close\r\n\r\n")
                        let returnedAt = Date()
                        let record = try JSONCodingForTests.decoder.decode(
                            JobRecord.self, from: Data(httpBody(of: response).utf8))
                        return Answer(node: node, record: record, returnedAt: returnedAt)
                    })
            }
        }
    }
}

private func median(_ values: [Double]) -> Double {
    values.isEmpty ? 0 : values.sorted()[values.count / 2]
}

private func ms(_ seconds: Double) -> String { String(format: "%.1f ms", seconds * 1000) }
