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
                    let clients = [a, b]
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
                        let returns = try await waitOnBoth(ids, clients)
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
            // The must-show bound is 100 ms on a quiet machine (JOBDTEST_STRICT_TIMING=1); CI
            // shares 2 cores with other suites, so there it is 1 s: still far below any
            // polling interval or timeout that a lost notification would fall back to.
            let bound = ProcessInfo.processInfo.environment["JOBDTEST_STRICT_TIMING"] == "1" ? 0.100 : 1.0
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

    /// Waits for every job on every client at once.
    private func waitOnBoth(_ ids: [JobID], _ clients: [JobdClient]) async throws -> [JobID: [Answer]] {
        try await withThrowingTaskGroup(of: (JobID, Answer).self) { group in
            for id in ids {
                for (node, client) in clients.enumerated() {
                    group.addTask {
                        let record = try await client.wait(id, timeout: .seconds(30))
                        return (id, Answer(node: node, record: record, returnedAt: Date()))
                    }
                }
            }
            var answers: [JobID: [Answer]] = [:]
            for try await (id, answer) in group { answers[id, default: []].append(answer) }
            return answers
        }
    }
}

private func median(_ values: [Double]) -> Double {
    values.isEmpty ? 0 : values.sorted()[values.count / 2]
}

private func ms(_ seconds: Double) -> String { String(format: "%.1f ms", seconds * 1000) }
