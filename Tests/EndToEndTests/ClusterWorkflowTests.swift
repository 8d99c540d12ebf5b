import Foundation
import JobdModel
import JobdTestSupport
import Testing

/// Batches and dependencies across real nodes on one real PostgreSQL (issue 12): a batch
/// made on one node, run by all, gathered on another; a chain whose links run wherever a
/// node has a slot.
@Suite(.timingSensitive) struct ClusterWorkflowTests {
    @Test("a batch made on node 0 runs on every node; gather --batch on node 2 prints its results; on_complete once")
    func batchAcrossNodes() async throws {
        try await withPostgres { url in
            let nodes = try await startNodes(3, url: url)
            defer { for node in nodes { node.cleanUp() } }
            let specs = (0..<60).map { #"{"kind":"delay","seconds":0.3,"value":\#($0)}"# }
            let made = try await nodes[0].jobctl(
                ["gather", "--file", "-", "--on-complete", #"{"kind":"delay","seconds":0,"value":"done"}"#],
                stdin: specs.joined(separator: "\n"))
            #expect(made.status == 0, "\(made)")
            #expect(made.stdout == (0..<60).map { "\($0)\n" }.joined())
            let batch = try #require(BatchTests.batchID(in: made.stderr), "\(made)")
            let gathered = try await nodes[2].jobctl(["gather", "--batch", batch])
            #expect(gathered.stdout == made.stdout, "\(gathered)")
            let record = try await nodes[1].jobctlJSON(BatchRecord.self, ["batch", "status", batch])
            #expect(record.state == .succeeded && record.counts.succeeded == 60)
            var ranOn = Set<String>()
            for id in record.jobIDs ?? [] {
                let job = try await nodes[1].jobctlJSON(JobRecord.self, ["status", "\(id)"])
                ranOn.formUnion(job.attempts?.compactMap(\.node) ?? [])
            }
            #expect(ranOn.count >= 2, "the batch ran on \(ranOn)")
            let onComplete = try #require(record.onCompleteID)
            try await waitUntil("on_complete ran") {
                try await nodes[2].jobctlJSON(JobRecord.self, ["status", "\(onComplete)"]).state == .succeeded
            }
            let callback = try await nodes[2].jobctlJSON(JobRecord.self, ["status", "\(onComplete)"])
            #expect(callback.attempts?.map(\.outcome) == [.succeeded], "on_complete ran once")
            for node in nodes { #expect(try await node.stop() == 0) }
        }
    }

    @Test("a chain of 50 submitted on node 1 runs in order across the nodes; a failure cancels the rest")
    func chainAcrossNodes() async throws {
        try await withPostgres { url in
            let nodes = try await startNodes(3, url: url)
            defer { for node in nodes { node.cleanUp() } }
            let lines =
                [#"{"kind":"delay","seconds":0.05,"value":0}"#]
                + (1..<50).map {
                    #"{"kind":"delay","seconds":0.05,"value":\#($0),"after":["@\#($0 - 1)"]}"#
                }
                + [
                    #"{"kind":"delay","seconds":0,"fail":"boom","after":["@49"]}"#,
                    #"{"kind":"delay","seconds":0,"after":["@50"]}"#,
                ]
            let submitted = try await nodes[1].jobctl(["submit", "--file", "-"], stdin: lines.joined(separator: "\n"))
            #expect(submitted.status == 0, "\(submitted)")
            let ids = submitted.stdout.split(separator: "\n").compactMap { JobID(String($0)) }
            #expect(ids.count == 52)
            let waited = try await nodes[0].jobctl(["wait"] + ids.map(\.description), timeout: .seconds(120))
            #expect(waited.status == 1, "the failing link fails: \(waited)")
            let records = try await DependencyTests.records(ids, socket: nodes[2].socketPath)
            var ranOn = Set<String>()
            for (parent, child) in zip(ids.prefix(51), ids.dropFirst().prefix(50)) {
                let ended = try #require(DependencyTests.end(records[parent]))
                let started = try #require(DependencyTests.start(records[child]))
                #expect(started >= ended, "job \(child) started before \(parent) ended")
                ranOn.formUnion(records[child]?.attempts?.compactMap(\.node) ?? [])
            }
            print("ClusterWorkflowTests.chainAcrossNodes: links ran on \(ranOn.sorted())")
            let last = try #require(records[ids[51]])
            #expect(last.state == .cancelled && last.error?.code == .dependencyFailed, "\(last)")
            for node in nodes { #expect(try await node.stop() == 0) }
        }
    }
}
