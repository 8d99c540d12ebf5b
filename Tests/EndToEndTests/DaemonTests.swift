import Foundation
import JobdModel
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The daemon process: start, refuse, crash recovery, the raw API on the socket.
@Suite struct DaemonTests {
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
        try await daemon.start(["--workers", "200"])
        let ids = (1...200).map(String.init)
        let wait = try await daemon.jobctl(["wait"] + ids, timeout: .seconds(90))
        #expect(wait.status == 0, "\(wait)")
        let list = try await daemon.jobctlJSON(JobListResponse.self, ["list", "--limit", "1000"])
        #expect(list.jobs.count == 200)
        #expect(list.jobs.allSatisfy { $0.state == .succeeded })
        for id in running.prefix(5) {
            let record = try await daemon.jobctlJSON(JobRecord.self, ["status", id.description])
            #expect(record.state == .succeeded)
            #expect(record.attempts?.first?.outcome == .interrupted, "job \(id) was running at the kill")
            #expect(record.attempts?.last?.outcome == .succeeded)
        }
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
