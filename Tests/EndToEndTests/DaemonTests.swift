import Foundation
import JobdModel
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The daemon process: start, refuse, crash recovery, the raw API on the socket.
@Suite(.timingSensitive) struct DaemonTests {
    @Test("kill -9 with 200 delay(3) jobs queued or running loses none: all succeed, killed runs are interrupted")
    func killNine() async throws {
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try await daemon.start(["--workers", "50"])
        let jobs = (0..<200).map { #"{"kind":"delay","seconds":3,"value":\#($0)}"# }.joined(separator: ",")
        let body = #"{"jobs":["# + jobs + "]}"
        let submit = try rawHTTP(
            socketPath: daemon.socketPath,
            "POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        )
        try #require(submit.hasPrefix("HTTP/1.1 201"), "\(submit)")
        // Kill while some jobs run: the ones listed as running must come back interrupted.
        var running: [JobID] = []
        let deadline = ContinuousClock.now + .seconds(20)
        while running.isEmpty, ContinuousClock.now < deadline {
            running = try await daemon.jobctlJSON(
                JobListResponse.self, ["list", "--state", "running", "--limit", "1000"]
            )
            .jobs.map(\.id)
        }
        try #require(!running.isEmpty, "no job started")
        try await daemon.stop(signal: SIGKILL)
        // Taken once the process is gone: an attempt committed as succeeded by the killed
        // daemon finished before this; one that started before it and finished after ran
        // through the kill.
        let killedAt = Date()
        try await daemon.start(["--workers", "200"])
        let ids = (1...200).map(String.init)
        let wait = try await daemon.jobctl(["wait", "--json"] + ids, timeout: .seconds(90))
        #expect(wait.status == 0, "\(wait)")
        let records = try JSONCodingForTests.decoder.decode([JobRecord].self, from: Data(wait.stdout.utf8))
        #expect(records.count == 200)
        #expect(records.allSatisfy { $0.state == .succeeded })
        // The property, whatever the machine's speed: no attempt that spans the kill is
        // recorded as succeeded (each one that ran then is interrupted and run again), and
        // the kill did hit running attempts. Recorded times are rounded to milliseconds.
        let margin = 0.001
        var interrupted = 0
        for record in records {
            let id = record.id
            let attempts = record.attempts ?? []
            #expect(record.state == .succeeded)
            #expect(attempts.last?.outcome == .succeeded, "job \(id): \(attempts)")
            for attempt in attempts where attempt.outcome == .succeeded {
                let finished = try #require(attempt.finishedAt)
                let spansKill = attempt.startedAt < killedAt && finished > killedAt.addingTimeInterval(margin)
                #expect(!spansKill, "job \(id) ran through the kill yet is not interrupted: \(attempts)")
            }
            if attempts.first?.outcome == .interrupted {
                interrupted += 1
                #expect(attempts.count == 2, "job \(id): \(attempts)")
            }
        }
        #expect(interrupted >= 1, "the kill hit no running attempt (\(running.count) were listed running)")
        #expect(try await daemon.stop() == 0)
    }

    @Test("a second jobd on the same socket refuses to start; a stale socket is replaced")
    func socketOwnership() async throws {
        try await withTestDaemon { daemon in
            let second = try await run(
                Binaries.jobd,
                [
                    "--socket", daemon.socketPath, "--database",
                    daemon.directory.appendingPathComponent("other.sqlite").path,
                ],
                timeout: .seconds(20))
            #expect(second.status != 0)
            #expect(second.stderr.contains("already serving"), "\(second)")
        }
        // After a kill -9 the socket file stays behind; the next start must replace it.
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try await daemon.start()
        try await daemon.stop(signal: SIGKILL)
        #expect(FileManager.default.fileExists(atPath: daemon.socketPath))
        try await daemon.start()
        #expect(try await daemon.jobctl(["health"]).status == 0)
        #expect(try await daemon.stop() == 0)
    }

    @Test("the socket is created with mode 0660")
    func socketMode() async throws {
        try await withTestDaemon { daemon in
            let attributes = try FileManager.default.attributesOfItem(atPath: daemon.socketPath)
            #expect((attributes[.posixPermissions] as? Int) == 0o660)
        }
    }

    @Test("GET /v1/jobs/1 over the raw socket returns the job as JSON")
    func rawAPI() async throws {
        try await withTestDaemon { daemon in
            _ = try await daemon.jobctl(["submit", "delay", "0", "--value", "7", "--wait"])
            let response = try rawHTTP(
                socketPath: daemon.socketPath, "GET /v1/jobs/1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
            )
            #expect(response.hasPrefix("HTTP/1.1 200"))
            let body = try #require(response.components(separatedBy: "\r\n\r\n").last)
            let record = try JSONCodingForTests.decoder.decode(JobRecord.self, from: Data(body.utf8))
            #expect(record.id == 1)
            #expect(record.result == .delay(DelayResult(value: 7)))
        }
    }

    @Test("bad input gets a 4xx with its code and the daemon keeps serving")
    func badInput() async throws {
        try await withTestDaemon { daemon in
            let cases: [(String, String)] = [
                ("{oops", "invalid_json"),
                (#"{"kind":"teleport"}"#, "unknown_kind"),
                (#"{"kind":"delay","seconds":-1}"#, "invalid_spec"),
                (#"{"kind":"fetch","url":"file:///etc/passwd"}"#, "invalid_url"),
            ]
            for (body, code) in cases {
                let response = try rawHTTP(
                    socketPath: daemon.socketPath,
                    "POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
                )
                #expect(response.hasPrefix("HTTP/1.1 400"), "\(body): \(response)")
                #expect(response.contains(#""code":"\#(code)""#), "\(body): \(response)")
            }
            let huge = try rawHTTP(
                socketPath: daemon.socketPath,
                "POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1073741824\r\nConnection: close\r\n\r\n{")
            #expect(huge.hasPrefix("HTTP/1.1 413"), "\(huge)")
            #expect(huge.contains("payload_too_large"))
            let missing = try rawHTTP(
                socketPath: daemon.socketPath,
                "GET /v1/jobs/424242 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            #expect(missing.hasPrefix("HTTP/1.1 404"))
            #expect(missing.contains("job_not_found"))
            #expect(try await daemon.jobctl(["health"]).status == 0)
        }
    }

    @Test("a bad setting stops the start with exit 78 naming it")
    func badSetting() async throws {
        let output = try await run(Binaries.jobd, ["--workers", "0", "--socket", "/tmp/jd-unused.sock"])
        #expect(output.status == 78)
        #expect(output.stderr.contains("workers"))
    }
}
