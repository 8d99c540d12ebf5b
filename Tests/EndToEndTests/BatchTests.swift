import Foundation
import JobdModel
import Testing

/// Batches end to end (issue 12): the real jobd and jobctl, `jobctl gather` making a batch
/// on the daemon, attaching again after the client or the daemon died.
@Suite(.timingSensitive) struct BatchTests {
    /// The batch id `jobctl gather` prints on stderr (`batch 12`).
    static func batchID(in stderr: String) -> String? {
        stderr.split(separator: "\n").first { $0.hasPrefix("batch ") }.map { String($0.dropFirst(6)) }
    }

    static func file(_ lines: [String]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "jobd-batch-\(UUID().uuidString).ndjson")
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test("the seed's gather, durably: Data 1, 2, 3 in order in about 3 s; a failure stands in its place, exit 1")
    func seedGather() async throws {
        try await withTestDaemon { daemon in
            let specs = (1...3).map { #"{"kind":"delay","seconds":\#($0),"value":"Data \#($0)"}"# }
            let started = ContinuousClock.now
            let gathered = try await daemon.jobctl(["gather", "--file", "-"], stdin: specs.joined(separator: "\n"))
            let took = ContinuousClock.now - started
            #expect(gathered.status == 0, "\(gathered)")
            #expect(gathered.stdout == "Data 1\nData 2\nData 3\n")
            print("BatchTests.seedGather: delay 1/2/3 s gathered in \(took)")
            #expect(took >= .seconds(3) && took < TimingBound.duration(strict: .seconds(4), loose: .seconds(30)))
            let batch = try #require(Self.batchID(in: gathered.stderr), "\(gathered)")
            let record = try await daemon.jobctlJSON(BatchRecord.self, ["batch", "status", batch])
            #expect(record.state == .succeeded && record.counts.succeeded == 3 && record.size == 3)

            var failing = specs
            failing[1] = #"{"kind":"delay","seconds":2,"fail":"no data"}"#
            let failed = try await daemon.jobctl(["gather", "--file", "-"], stdin: failing.joined(separator: "\n"))
            #expect(failed.status == 1, "\(failed)")
            let lines = failed.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 3 && lines[0] == "Data 1" && lines[2] == "Data 3", "\(failed)")
            #expect(lines[1].hasPrefix("error: job ") && lines[1].hasSuffix("failed: no data [job_failed]"))
            let second = try #require(Self.batchID(in: failed.stderr))
            let after = try await daemon.jobctlJSON(BatchRecord.self, ["batch", "status", second])
            #expect(after.state == .failed && after.counts.failed == 1 && after.counts.succeeded == 2)
            let list = try await daemon.jobctl(["batch", "list"])
            let row = list.stdout.split(separator: "\n").first { $0.hasPrefix("\(second) ") }
            #expect(list.status == 0 && row?.contains(" failed ") == true, "\(list)")
        }
    }

    @Test(
        "a client killed with SIGKILL after 1 s: gather --batch prints all 1,000 results in order; on_complete ran once"
    )
    func clientKilled() async throws {
        // 200 workers: the batch takes about 5 s, so the client dies in the middle of it.
        try await withTestDaemon(["--workers", "200"]) { daemon in
            let specs = (0..<1000).map { #"{"kind":"delay","seconds":\#(Double($0 % 20) / 10),"value":\#($0)}"# }
            let file = try Self.file(specs)
            defer { try? FileManager.default.removeItem(at: file) }
            let client = try BackgroundProcess(
                Binaries.jobctl,
                [
                    "gather", "--socket", daemon.socketPath, "--file", file.path, "--label", "killed",
                    "--on-complete", #"{"kind":"delay","seconds":0,"value":"all done"}"#,
                ])
            var batch: String?
            try await waitUntil("the client made its batch") {
                batch = Self.batchID(in: client.errorOutput())
                return batch != nil
            }
            // The scenario: the client dies a second into the wait, the batch runs on.
            try await Task.sleep(for: .seconds(1))
            kill(client.processIdentifier, SIGKILL)
            _ = try await client.wait(timeout: .seconds(10))
            let id = try #require(batch)
            let attached = try await daemon.jobctl(["gather", "--batch", id], timeout: .seconds(120))
            #expect(attached.status == 0, "\(attached.stderr)")
            #expect(attached.stdout == (0..<1000).map { "\($0)\n" }.joined())
            let record = try await daemon.jobctlJSON(BatchRecord.self, ["batch", "status", id])
            #expect(record.state == .succeeded && record.label == "killed")
            let onComplete = try #require(record.onCompleteID)
            try await waitUntil("on_complete ran") {
                try await daemon.jobctlJSON(JobRecord.self, ["status", "\(onComplete)"]).state == .succeeded
            }
            let callback = try await daemon.jobctlJSON(JobRecord.self, ["status", "\(onComplete)"])
            #expect(callback.attempts?.map(\.outcome) == [.succeeded], "on_complete ran once")
        }
    }

    @Test("jobd killed with SIGKILL as a batch's last job ends, 20 times: the batch ends, on_complete runs once")
    func daemonKilledAtTheEnd() async throws {
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try await daemon.start()
        var generator = SystemRandomNumberGenerator()
        var afterCommit = 0
        for round in 0..<20 {
            let specs = [
                #"{"kind":"delay","seconds":0,"value":"a\#(round)"}"#,
                #"{"kind":"delay","seconds":0,"value":"b\#(round)"}"#,
                #"{"kind":"delay","seconds":0.3,"value":"last\#(round)"}"#,
            ]
            let file = try Self.file(specs)
            defer { try? FileManager.default.removeItem(at: file) }
            let client = try BackgroundProcess(
                Binaries.jobctl,
                [
                    "gather", "--socket", daemon.socketPath, "--file", file.path,
                    "--on-complete", #"{"kind":"delay","seconds":0,"value":"done \#(round)"}"#,
                ])
            var batch: String?
            try await waitUntil("round \(round): the batch's first two jobs ended") {
                batch = Self.batchID(in: client.errorOutput())
                guard let batch else { return false }
                let record = try await daemon.jobctlJSON(BatchRecord.self, ["batch", "status", batch])
                return record.counts.succeeded >= 2
            }
            // Around the last job's end (0.3 s after its start, which was about when the
            // first two ended): before, during or just after the transaction that ends it
            // and queues on_complete. On a loaded machine more kills land after it.
            try await Task.sleep(for: .milliseconds(Int.random(in: 100...450, using: &generator)))
            _ = try await daemon.stop(signal: SIGKILL)
            _ = try await client.wait(timeout: .seconds(10))
            try await daemon.start()
            let id = try #require(batch)
            let attached = try await daemon.jobctl(["gather", "--batch", id])
            #expect(attached.status == 0, "round \(round): \(attached)")
            #expect(attached.stdout == "a\(round)\nb\(round)\nlast\(round)\n")
            let record = try await daemon.jobctlJSON(BatchRecord.self, ["batch", "status", id])
            #expect(record.state == .succeeded, "round \(round): \(record)")
            let onComplete = try #require(record.onCompleteID)
            try await waitUntil("round \(round): on_complete ran") {
                try await daemon.jobctlJSON(JobRecord.self, ["status", "\(onComplete)"]).state.isTerminal
            }
            let callback = try await daemon.jobctlJSON(JobRecord.self, ["status", "\(onComplete)"])
            let outcomes = callback.attempts?.map(\.outcome) ?? []
            // Exactly one run that counted; a kill during on_complete's own run shows as an
            // interrupted attempt before it, never as a second success.
            #expect(callback.state == .succeeded && outcomes.last == .succeeded, "round \(round): \(outcomes)")
            #expect(outcomes.filter { $0 == .succeeded }.count == 1, "round \(round): \(outcomes)")
            let last = try await daemon.jobctlJSON(
                JobRecord.self,
                [
                    "status",
                    "\(try #require(try await daemon.jobctlJSON(BatchRecord.self, ["batch", "status", id]).jobIDs?.last))",
                ])
            if last.attempts?.map(\.outcome) == [.succeeded] { afterCommit += 1 }
        }
        print("BatchTests.daemonKilledAtTheEnd: 20 kills, \(afterCommit) after the last job's end was committed")
        #expect(try await daemon.stop() == 0)
    }
}
