import Foundation
import JobdModel
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The real jobd driven by the real jobctl.
@Suite(.timingSensitive) struct CLITests {
    @Test("submit delay --wait prints the value and exits 0")
    func submitDelayWait() async throws {
        try await withTestDaemon { daemon in
            let output = try await daemon.jobctl(["submit", "delay", "1", "--value", #""Data 1""#, "--wait"])
            #expect(output.status == 0, "\(output)")
            #expect(output.stdout == "Data 1\n")
        }
    }

    @Test("submit without --wait prints the id alone; result prints the value")
    func submitThenResult() async throws {
        try await withTestDaemon { daemon in
            let submit = try await daemon.jobctl(["submit", "delay", "0", "--value", #"{"a":[1,2]}"#])
            #expect(submit.status == 0, "\(submit)")
            let id = submit.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(JobID(id) != nil)
            let wait = try await daemon.jobctl(["wait", id])
            #expect(wait.status == 0, "\(wait)")
            let result = try await daemon.jobctl(["result", id])
            #expect(result.status == 0)
            #expect(result.stdout == #"{"a":[1,2]}"# + "\n")
        }
    }

    @Test("gather of 1, 2 and 3 s delays prints the values in order, running them concurrently")
    func gather() async throws {
        try await withTestDaemon { daemon in
            let lines = (1...3).map { #"{"kind":"delay","seconds":\#($0),"value":"Data \#($0)"}"# }
            let output = try await daemon.jobctl(
                ["gather", "--file", "-"], stdin: lines.joined(separator: "\n") + "\n")
            #expect(output.status == 0, "\(output)")
            #expect(output.stdout == "Data 1\nData 2\nData 3\n")
            // Concurrent, not one after the other: every attempt started before the first
            // one ended (the 1 s job), read from the daemon's own records, so the property
            // holds however slow the machine is. (Wall-clock figures are the bench's.)
            var attempts: [JobAttempt] = []
            for id in 1...3 {
                let record = try await daemon.jobctlJSON(JobRecord.self, ["status", String(id)])
                attempts.append(try #require(record.attempts?.first, "job \(id) has no attempt"))
            }
            let lastStart = try #require(attempts.map(\.startedAt).max())
            let firstEnd = try #require(attempts.compactMap(\.finishedAt).min())
            #expect(attempts.count == 3 && lastStart < firstEnd, "attempts did not overlap: \(attempts)")
        }
    }

    @Test("gather exits 1 when a job fails, printing the error in its place")
    func gatherFailure() async throws {
        try await withTestDaemon { daemon in
            let input = """
                {"kind":"delay","seconds":0,"value":"first"}
                {"kind":"delay","seconds":0,"fail":"boom"}
                {"kind":"delay","seconds":0,"value":"third"}
                """
            let output = try await daemon.jobctl(["gather", "--file", "-"], stdin: input)
            #expect(output.status == 1, "\(output)")
            let lines = output.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 3)
            #expect(lines.first == "first")
            #expect(lines.last == "third")
            #expect(lines[1].contains("boom") && lines[1].contains("job_failed"))
        }
    }

    @Test("with --workers 4, 40 delay(0.2) jobs all succeed and max_running is exactly 4")
    func workerLimit() async throws {
        try await withTestDaemon(["--workers", "4"]) { daemon in
            let input = (0..<40).map { _ in #"{"kind":"delay","seconds":0.2}"# }.joined(separator: "\n")
            let output = try await daemon.jobctl(["gather", "--file", "-", "--json"], stdin: input)
            #expect(output.status == 0, "\(output)")
            let records = try JSONCodingForTests.decoder.decode([JobRecord].self, from: Data(output.stdout.utf8))
            #expect(records.count == 40)
            #expect(records.allSatisfy { $0.state == .succeeded })
            let stats = try await daemon.jobctlJSON(StatsResponse.self, ["stats"])
            #expect(stats.maxRunning == 4)
            #expect(stats.succeeded == 40)
        }
    }

    @Test("list, status and cancel work on the daemon's jobs")
    func listStatusCancel() async throws {
        try await withTestDaemon(["--workers", "1"]) { daemon in
            let first = try await daemon.jobctl(["submit", "delay", "60"])
            let second = try await daemon.jobctl(["submit", "delay", "60"])
            let firstID = first.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let secondID = second.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let list = try await daemon.jobctlJSON(JobListResponse.self, ["list"])
            #expect(list.jobs.map(\.id.description) == [secondID, firstID])
            let cancel = try await daemon.jobctl(["cancel", secondID, firstID])
            #expect(cancel.status == 0, "\(cancel)")
            let wait = try await daemon.jobctl(["wait", firstID, secondID])
            #expect(wait.status == 1, "cancelled jobs make wait exit 1: \(wait)")
            let status = try await daemon.jobctlJSON(JobRecord.self, ["status", secondID])
            #expect(status.state == .cancelled)
            let human = try await daemon.jobctl(["list", "--state", "cancelled"])
            #expect(human.status == 0)
            #expect(human.stdout.contains("cancelled"))
        }
    }

    @Test("health exits 0 on a live daemon and 69 naming the socket when none answers")
    func health() async throws {
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        let down = try await daemon.jobctl(["health"])
        #expect(down.status == 69, "\(down)")
        #expect(down.stderr.contains(daemon.socketPath))
        try await daemon.start()
        let up = try await daemon.jobctl(["health"])
        #expect(up.status == 0, "\(up)")
        #expect(up.stdout.hasPrefix("ok"))
        #expect(try await daemon.stop() == 0)
    }

    @Test("a usage error exits 2")
    func usage() async throws {
        let output = try await run(Binaries.jobctl, ["submit", "delay", "not-a-number"])
        #expect(output.status == 2, "\(output)")
    }
}
