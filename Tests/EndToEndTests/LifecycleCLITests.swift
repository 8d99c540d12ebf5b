import Foundation
import JobdModel
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The lifecycle commands of the real jobctl against the real jobd: retry, workers,
/// pause/resume, watch, prune, submit --file, and many-job waits.
@Suite(.timingSensitive) struct LifecycleCLITests {
    /// The cells of a plain-text table's lines.
    private static func rows(_ text: String) -> [[String]] {
        text.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
    }

    /// The id a plain `jobctl submit` printed.
    private static func submittedID(_ output: ProcessOutput) throws -> String {
        let text = output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(output.status == 0 && JobID(text) != nil, "\(output)")
        return text
    }

    @Test("retry of a failed delay job runs it again: the status shows 2 attempts")
    func retry() async throws {
        try await withTestDaemon { daemon in
            let id = try Self.submittedID(try await daemon.jobctl(["submit", "delay", "0", "--fail", "boom"]))
            let first = try await daemon.jobctl(["wait", id])
            #expect(first.status == 1, "\(first)")
            let retry = try await daemon.jobctl(["retry", id])
            #expect(retry.status == 0, "\(retry)")
            // The job's state when jobd answered: queued, running, or (a 0 s job) already
            // failed again.
            #expect(["\(id) queued\n", "\(id) running\n", "\(id) failed\n"].contains(retry.stdout), "\(retry)")
            let second = try await daemon.jobctl(["wait", id])
            #expect(second.status == 1, "\(second)")
            let record = try await daemon.jobctlJSON(JobRecord.self, ["status", id])
            #expect(record.state == .failed)
            #expect(record.attempts?.count == 2)
            #expect(record.attempts?.allSatisfy { $0.error?.code == .jobFailed } == true)
            let human = try await daemon.jobctl(["status", id])
            let rows = human.stdout.split(separator: "\n").filter { $0.hasPrefix("1  ") || $0.hasPrefix("2  ") }
            #expect(rows.count == 2, "the attempts table has rows 1 and 2: \(human)")
        }
    }

    @Test("retry of a job that is not finished exits 1 with invalid_state; the others go on")
    func retryUnfinished() async throws {
        try await withTestDaemon { daemon in
            let running = try Self.submittedID(try await daemon.jobctl(["submit", "delay", "60"]))
            let done = try Self.submittedID(try await daemon.jobctl(["submit", "delay", "0"]))
            #expect(try await daemon.jobctl(["wait", done]).status == 0)
            let retry = try await daemon.jobctl(["retry", running, done])
            #expect(retry.status == 1, "\(retry)")
            #expect(retry.stderr.contains("job \(running)") && retry.stderr.contains("[invalid_state]"), "\(retry)")
            #expect(retry.stdout.hasPrefix("\(done) "), "\(retry)")
            #expect(try await daemon.jobctl(["cancel", running]).status == 0)
        }
    }

    @Test("workers 2 sets the limit: workers and stats show 2; workers 0 is a usage error")
    func workers() async throws {
        try await withTestDaemon { daemon in
            let set = try await daemon.jobctl(["workers", "2"])
            #expect(set.status == 0, "\(set)")
            #expect(set.stdout == "workers:  2\npaused:   no\n")
            let show = try await daemon.jobctl(["workers"])
            #expect(show.stdout == "workers:  2\npaused:   no\n", "\(show)")
            let json = try await daemon.jobctlJSON(DispatchResponse.self, ["workers"])
            #expect(json == DispatchResponse(workers: 2, paused: false))
            let stats = try await daemon.jobctlJSON(StatsResponse.self, ["stats"])
            #expect(stats.workers == 2)
            let human = try await daemon.jobctl(["stats"])
            #expect(human.stdout.contains("workers:       2\n"), "\(human)")
            let zero = try await daemon.jobctl(["workers", "0"])
            #expect(zero.status == 2, "\(zero)")
        }
    }

    @Test("pause keeps a submitted job queued; resume lets it finish")
    func pauseResume() async throws {
        try await withTestDaemon { daemon in
            let pause = try await daemon.jobctl(["pause"])
            #expect(pause.status == 0, "\(pause)")
            #expect(pause.stdout.hasPrefix("paused"))
            let id = try Self.submittedID(try await daemon.jobctl(["submit", "delay", "0", "--value", "1"]))
            // While paused the job cannot start: a check right away and one after another
            // submit's round trip through the dispatcher must both find it queued.
            #expect(try await daemon.jobctlJSON(JobRecord.self, ["status", id]).state == .queued)
            let other = try Self.submittedID(try await daemon.jobctl(["submit", "delay", "0"]))
            #expect(try await daemon.jobctlJSON(JobRecord.self, ["status", id]).state == .queued)
            #expect(try await daemon.jobctlJSON(JobRecord.self, ["status", other]).state == .queued)
            let stats = try await daemon.jobctlJSON(StatsResponse.self, ["stats"])
            #expect(stats.paused)
            #expect(stats.queued == 2)
            let resume = try await daemon.jobctl(["resume"])
            #expect(resume.status == 0, "\(resume)")
            #expect(resume.stdout.hasPrefix("resumed"))
            let wait = try await daemon.jobctl(["wait", id, other])
            #expect(wait.status == 0, "\(wait)")
            #expect(Self.rows(wait.stdout) == [[id, "succeeded"], [other, "succeeded"]])
            #expect(try await daemon.jobctlJSON(DispatchResponse.self, ["workers"]).paused == false)
        }
    }

    @Test("watch --json shows every transition of a 3-attempt job in order and exits 0 on SIGINT")
    func watch() async throws {
        try await withTestDaemon { daemon in
            let watch = try BackgroundProcess(Binaries.jobctl, ["watch", "--json", "--socket", daemon.socketPath])
            defer { watch.cleanUp() }
            // The watcher is subscribed once it prints an event: submit markers until one
            // of theirs shows (each check has a deadline; nothing sleeps blindly).
            var subscribed = false
            for _ in 0..<20 where !subscribed {
                let marker = try Self.submittedID(try await daemon.jobctl(["submit", "delay", "0"]))
                subscribed = try await watch.waitForOutput(timeout: .milliseconds(500)) {
                    $0.contains(#""job_id":\#(marker),"#)
                }
            }
            try #require(subscribed, "watch printed no event: \(watch.output())")

            let id = try Self.submittedID(
                try await daemon.jobctl(["submit", "delay", "0", "--fail", "boom", "--retries", "3"]))
            let failedLine = #""job_id":\#(id),"state":"failed","time""#
            let sawFailed = try await watch.waitForOutput(timeout: .seconds(30)) { text in
                text.split(separator: "\n").contains { $0.contains(failedLine) && $0.contains(#""type":"failed""#) }
            }
            #expect(sawFailed, "no failed event for job \(id): \(watch.output())")
            kill(watch.processIdentifier, SIGINT)
            let status = try await watch.wait(timeout: .seconds(10))
            #expect(status == 0, "watch exit status; stderr: \(watch.errorOutput())")

            let events = try watch.output().split(separator: "\n").map { line in
                try JSONCodingForTests.decoder.decode(JobEvent.self, from: Data(line.utf8))
            }
            let mine = events.filter { $0.jobID == JobID(id) }
            #expect(
                mine.map(\.type) == [
                    .submitted, .started, .attemptFailed, .retryScheduled, .started, .attemptFailed,
                    .retryScheduled, .started, .attemptFailed, .failed,
                ])
            #expect(mine.filter { $0.type == .started }.map(\.attempt) == [1, 2, 3])
            #expect(mine.last?.error?.code == .jobFailed)
            #expect(zip(events, events.dropFirst()).allSatisfy { $0.id < $1.id }, "event ids increase")
        }
    }

    @Test("watch with ids prints aligned human lines for those jobs only")
    func watchHuman() async throws {
        try await withTestDaemon { daemon in
            let watched = try Self.submittedID(try await daemon.jobctl(["submit", "delay", "0", "--fail", "x"]))
            #expect(try await daemon.jobctl(["wait", watched]).status == 1)
            let watch = try BackgroundProcess(Binaries.jobctl, ["watch", watched, "--socket", daemon.socketPath])
            defer { watch.cleanUp() }
            // A retry makes the job run (and fail) again; retry until the watcher shows it,
            // which also proves it is subscribed. Each check has a deadline.
            var shown = false
            for _ in 0..<20 where !shown {
                #expect(try await daemon.jobctl(["retry", watched]).status == 0)
                let other = try Self.submittedID(try await daemon.jobctl(["submit", "delay", "0"]))
                shown = try await watch.waitForOutput(timeout: .milliseconds(500)) {
                    $0.contains(" failed ")
                }
                #expect(try await daemon.jobctl(["wait", watched, other]).status == 1)
            }
            try #require(shown, "no events for job \(watched): \(watch.output())")
            kill(watch.processIdentifier, SIGINT)
            #expect(try await watch.wait(timeout: .seconds(10)) == 0)
            let lines = watch.output().split(separator: "\n").map(String.init)
            #expect(lines.allSatisfy { $0.contains("  job \(watched) ") }, "only the watched job: \(lines)")
            // HH:mm:ss.SSS, two spaces, the job padded to 10, two spaces, the type padded to 15.
            let pattern = #/^\d\d:\d\d:\d\d\.\d\d\d  job \d+ +[a-z_]+/#
            #expect(lines.allSatisfy { $0.prefixMatch(of: pattern) != nil }, "\(lines)")
            let failed = try #require(lines.last { $0.contains(" failed ") })
            let job = "job \(watched)".padding(toLength: 10, withPad: " ", startingAt: 0)
            let expected = try Regex(#"\d\d:\d\d:\d\d\.\d{3}  "# + job + #"  failed {11}attempt \d+  job_failed: x"#)
            #expect(failed.wholeMatch(of: expected) != nil, "\(failed)")
        }
    }

    @Test("a watcher that stops reading is dropped: it prints an error with [lagged] and exits 1")
    func watchLagged() async throws {
        try await withTestDaemon(["--workers", "64"]) { daemon in
            let watch = try BackgroundProcess(Binaries.jobctl, ["watch", "--socket", daemon.socketPath])
            defer { watch.cleanUp() }
            var subscribed = false
            for _ in 0..<20 where !subscribed {
                let marker = try Self.submittedID(try await daemon.jobctl(["submit", "delay", "0"]))
                subscribed = try await watch.waitForOutput(timeout: .milliseconds(500)) {
                    $0.contains("job \(marker) ")
                }
            }
            try #require(subscribed, "watch printed no event: \(watch.output())")
            // A stopped watcher reads nothing: 4,000 jobs make 12,000 events, more than
            // jobd buffers for one subscriber plus what the socket holds.
            kill(watch.processIdentifier, SIGSTOP)
            let input = String(repeating: #"{"kind":"delay","seconds":0}"# + "\n", count: 4000)
            let submit = try await daemon.jobctl(["submit", "--file", "-"], stdin: input)
            #expect(submit.status == 0, "\(submit)")
            let deadline = ContinuousClock.now + .seconds(60)
            while try await daemon.jobctlJSON(StatsResponse.self, ["stats"]).succeeded < 4000 + 1,
                ContinuousClock.now < deadline
            {
                try await Task.sleep(for: .milliseconds(100))
            }
            kill(watch.processIdentifier, SIGCONT)
            let status = try await watch.wait(timeout: .seconds(30))
            #expect(status == 1, "\(watch.errorOutput())")
            #expect(watch.errorOutput().hasPrefix("error: jobd dropped this watcher"), "\(watch.errorOutput())")
            #expect(watch.errorOutput().hasSuffix("[lagged]\n"), "\(watch.errorOutput())")
        }
    }

    @Test("prune --older-than 0s removes finished jobs and leaves unfinished ones")
    func prune() async throws {
        try await withTestDaemon { daemon in
            let done = try await daemon.jobctl(
                ["submit", "--file", "-"],
                stdin: "{\"kind\":\"delay\",\"seconds\":0}\n{\"kind\":\"delay\",\"seconds\":0}\n")
            let ids = done.stdout.split(separator: "\n").map(String.init)
            #expect(try await daemon.jobctl(["wait"] + ids).status == 0)
            let running = try Self.submittedID(try await daemon.jobctl(["submit", "delay", "60"]))
            let bare = try await daemon.jobctl(["prune", "--older-than", "7"])
            #expect(bare.status == 2, "a bare number is refused: \(bare)")
            let kept = try await daemon.jobctl(["prune", "--older-than", "1d"])
            #expect(kept.stdout == "pruned 0 jobs\n", "\(kept)")
            let prune = try await daemon.jobctl(["prune", "--older-than", "0s"])
            #expect(prune.status == 0, "\(prune)")
            #expect(prune.stdout == "pruned 2 jobs\n")
            let gone = try await daemon.jobctl(["status", ids[0]])
            #expect(gone.status == 1)
            #expect(gone.stderr.contains("[job_not_found]"), "\(gone)")
            let list = try await daemon.jobctlJSON(JobListResponse.self, ["list"])
            #expect(list.jobs.map(\.id.description) == [running])
            let json = try await daemon.jobctlJSON(PruneResponse.self, ["prune", "--older-than", "0s"])
            #expect(json.pruned == 0)
            #expect(try await daemon.jobctl(["cancel", running]).status == 0)
        }
    }

    @Test("submit --file prints the new ids one per line in file order; --json the batch answer")
    func submitFile() async throws {
        try await withTestDaemon { daemon in
            let input = """
                {"kind":"delay","seconds":0,"value":"a"}
                {"kind":"delay","seconds":0,"value":"b"}

                {"kind":"delay","seconds":0,"value":"c"}
                """
            let output = try await daemon.jobctl(["submit", "--file", "-"], stdin: input)
            #expect(output.status == 0, "\(output)")
            let ids = output.stdout.split(separator: "\n").compactMap { JobID(String($0)) }
            #expect(ids.count == 3, "\(output)")
            #expect(ids == ids.sorted())
            for (id, value) in zip(ids, ["a", "b", "c"]) {
                #expect(try await daemon.jobctl(["wait", id.description]).status == 0)
                #expect(try await daemon.jobctl(["result", id.description]).stdout == value + "\n")
            }
            let json = try await daemon.jobctl(["submit", "--file", "-", "--json"], stdin: input)
            let answer = try JSONCodingForTests.decoder.decode(SubmitBatchResponse.self, from: Data(json.stdout.utf8))
            #expect(answer.ids.count == 3)
            let bad = try await daemon.jobctl(["submit", "--file", "-"], stdin: "{\"kind\":\"delay\"}\n")
            #expect(bad.status == 2, "\(bad)")
            #expect(bad.stderr.contains("line 1") && bad.stderr.contains("[invalid_spec]"), "\(bad)")
            #expect(try await daemon.jobctlJSON(StatsResponse.self, ["stats"]).submitted == 6)
        }
    }

    @Test("submit --on-interrupt fail is stored on the job")
    func onInterrupt() async throws {
        try await withTestDaemon { daemon in
            let record = try await daemon.jobctlJSON(
                JobRecord.self, ["submit", "delay", "0", "--on-interrupt", "fail"])
            #expect(record.spec.onInterrupt == .fail)
            let bad = try await daemon.jobctl(["submit", "delay", "0", "--on-interrupt", "later"])
            #expect(bad.status == 2, "\(bad)")
        }
    }

    @Test("a submit past max_queued exits 1 with queue_full and the Retry-After delay")
    func queueFull() async throws {
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try await daemon.start([], environment: ["JOBD_MAX_QUEUED": "2"])
        try #require(try await daemon.jobctl(["pause"]).status == 0)
        for _ in 0..<2 {
            _ = try Self.submittedID(try await daemon.jobctl(["submit", "delay", "0"]))
        }
        let full = try await daemon.jobctl(["submit", "delay", "0"])
        #expect(full.status == 1, "\(full)")
        #expect(full.stderr.hasPrefix("error: "), "\(full)")
        #expect(full.stderr.contains("retry after") && full.stderr.contains("[queue_full]"), "\(full)")
        #expect(full.stdout.isEmpty)
        #expect(try await daemon.stop() == 0, "log:\n\(daemon.log())")
    }

    @Test(
        "gather of 500 delay 0 jobs prints all results in order; stderr, not a terminal, gets only plain progress lines"
    )
    func gatherMany() async throws {
        try await withTestDaemon { daemon in
            let input = (0..<500).map { #"{"kind":"delay","seconds":0,"value":\#($0)}"# }.joined(separator: "\n")
            let output = try await daemon.jobctl(["gather", "--file", "-"], stdin: input)
            #expect(output.status == 0, "\(output)")
            #expect(output.stdout == (0..<500).map { "\($0)\n" }.joined())
            // Off a terminal, a wait longer than 2 s prints a plain line every 2 s (signs of
            // life in a log) and never redraws. How long this gather takes depends on the
            // machine's load (jobctl reads each record: docs/benchmarks.md), so the test
            // holds for any number of lines, but not for a redraw or a stray message.
            // The first line names the batch the jobs went into.
            var lines = output.stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            #expect(lines.first?.hasPrefix("batch ") == true, "stderr: \(output.stderr)")
            lines = lines.dropFirst()
            #expect(output.stderr.isEmpty || output.stderr.hasSuffix("\n"), "\(output.stderr)")
            #expect(
                lines.allSatisfy { $0.hasPrefix("progress: ") && !$0.contains("\r") && !$0.contains("\u{1B}") },
                "stderr: \(output.stderr)")
        }
    }

    @Test("wait on many jobs prints their states in order, exits 1 when one failed, and honours --timeout")
    func waitMany() async throws {
        try await withTestDaemon { daemon in
            let input = (0..<50).map {
                $0 == 7 ? #"{"kind":"delay","seconds":0,"fail":"x"}"# : #"{"kind":"delay","seconds":0}"#
            }
            let submit = try await daemon.jobctl(["submit", "--file", "-"], stdin: input.joined(separator: "\n"))
            let ids = submit.stdout.split(separator: "\n").map(String.init)
            try #require(ids.count == 50, "\(submit)")
            let wait = try await daemon.jobctl(["wait"] + ids)
            #expect(wait.status == 1, "\(wait)")
            let lines = wait.stdout.split(separator: "\n").map(String.init)
            #expect(lines.map { $0.split(separator: " ").first.map(String.init) ?? "" } == ids)
            #expect(lines[7].hasSuffix("failed"))
            // Off a terminal a wait longer than 2 s (a busy machine) also prints plain
            // `progress:` lines; apart from them, the one error line.
            let errors = wait.stderr.split(separator: "\n").filter { !$0.hasPrefix("progress: ") }
            #expect(errors == ["error: job \(ids[7]) failed: x [job_failed]"], "\(wait)")

            let slow = try Self.submittedID(try await daemon.jobctl(["submit", "delay", "60"]))
            let timed = try await daemon.jobctl(["wait", ids[0], slow, "--timeout", "0.3"])
            #expect(timed.status == 1, "\(timed)")
            #expect(Self.rows(timed.stdout) == [[ids[0], "succeeded"], [slow, "running"]])
            #expect(timed.stderr.contains("[not_finished]"))
            #expect(try await daemon.jobctl(["cancel", slow]).status == 0)
        }
    }
}

/// A process running in the background with its output in files, for commands that
/// run until stopped (`jobctl watch`).
final class BackgroundProcess: @unchecked Sendable {
    private let process = Process()
    private let directory: URL
    private let outURL: URL
    private let errURL: URL
    private let exited: AsyncStream<Int32>

    /// Starts `executable` with `arguments`.
    init(_ executable: URL, _ arguments: [String]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("jobd-bg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        outURL = directory.appendingPathComponent("out")
        errURL = directory.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        process.standardInput = FileHandle.nullDevice
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self, bufferingPolicy: .bufferingNewest(1))
        exited = stream
        // Set before the start, so an early exit is never missed.
        process.terminationHandler = { process in
            continuation.yield(process.terminationStatus)
            continuation.finish()
        }
        try process.run()
    }

    var processIdentifier: Int32 { process.processIdentifier }

    /// What it printed on stdout so far.
    func output() -> String { (try? String(contentsOf: outURL, encoding: .utf8)) ?? "" }

    /// What it printed on stderr so far.
    func errorOutput() -> String { (try? String(contentsOf: errURL, encoding: .utf8)) ?? "" }

    /// Polls stdout until `condition` holds or `timeout` passes.
    ///
    /// - Returns: Whether the condition held in time.
    func waitForOutput(timeout: Duration, _ condition: (String) -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            if condition(output()) { return true }
            if ContinuousClock.now >= deadline { return false }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Waits for the exit status; kills the process and fails past `timeout`.
    func wait(timeout: Duration) async throws -> Int32 {
        let exited = self.exited
        return try await withThrowingTaskGroup(of: Int32?.self) { group in
            group.addTask {
                for await status in exited { return status }
                return nil
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            guard let first else {
                kill(process.processIdentifier, SIGKILL)
                Issue.record("the process did not exit within \(timeout)")
                throw CancellationError()
            }
            return first
        }
    }

    /// Kills the process if it still runs and removes its files.
    func cleanUp() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: directory)
    }
}
