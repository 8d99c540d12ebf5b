import Foundation
import JobdModel
import Testing

/// Fetch jobs against servers the test starts on 127.0.0.1.
@Suite(.timingSensitive) struct FetchTests {
    @Test("a 200 page records status and body; result prints the body")
    func ok() async throws {
        try await withLocalHTTPServer { server in
            try await withTestDaemon { daemon in
                let output = try await daemon.jobctl(["submit", "fetch", server.base + "/ok", "--wait"])
                #expect(output.status == 0, "\(output)")
                #expect(
                    output.stdout == "hello from the test server\n" || output.stdout == "hello from the test server")
                let list = try await daemon.jobctlJSON(JobListResponse.self, ["list"])
                let id = try #require(list.jobs.first?.id)
                let record = try await daemon.jobctlJSON(JobRecord.self, ["status", id.description])
                guard case .fetch(let result) = try #require(record.result) else {
                    Issue.record("not a fetch result")
                    return
                }
                #expect(result.status == 200)
                #expect(result.body == "hello from the test server")
                #expect(result.finalURL == server.base + "/ok")
                #expect(result.size == 26)
            }
        }
    }

    @Test("result prints a body exactly (no newline added off a terminal); an http_status failure also its error")
    func resultCommand() async throws {
        try await withLocalHTTPServer { server in
            try await withTestDaemon { daemon in
                let ok = try await daemon.jobctl(["submit", "fetch", server.base + "/ok", "-q", "--wait"])
                #expect(ok.status == 0, "\(ok)")
                let okResult = try await daemon.jobctl(["result", ok.stdout.trimmingCharacters(in: .newlines)])
                #expect(okResult.status == 0, "\(okResult)")
                #expect(okResult.stdout == "hello from the test server")
                let failed = try await daemon.jobctl(["submit", "fetch", server.base + "/status/503", "-q", "--wait"])
                #expect(failed.status == 1, "\(failed)")
                let id = failed.stdout.trimmingCharacters(in: .newlines)
                let failedResult = try await daemon.jobctl(["result", id])
                #expect(failedResult.status == 1, "\(failedResult)")
                #expect(failedResult.stdout == "status 503")
                #expect(
                    failedResult.stderr
                        == "error: job \(id) failed: the server answered 503 Service Unavailable [http_status]\n")
                let queued = try await daemon.jobctl(["submit", "delay", "60", "-q"])
                let queuedID = queued.stdout.trimmingCharacters(in: .newlines)
                let unfinished = try await daemon.jobctl(["result", queuedID])
                #expect(unfinished.status == 1, "\(unfinished)")
                #expect(unfinished.stderr.contains("[not_finished]"), "\(unfinished)")
                #expect(try await daemon.jobctl(["cancel", queuedID]).status == 0)
            }
        }
    }

    @Test("a closed port records connect_failed")
    func closedPort() async throws {
        let port = try SilentListener.closedPort()
        try await withTestDaemon { daemon in
            let output = try await daemon.jobctl(["submit", "fetch", "http://127.0.0.1:\(port)/", "--wait"])
            #expect(output.status == 1, "\(output)")
            #expect(output.stderr.contains("connect_failed"))
            let record = try await daemon.jobctlJSON(JobRecord.self, ["status", "1"])
            #expect(record.state == .failed)
            #expect(record.error?.code == .connectFailed)
            #expect(record.attempts?.count == 1)
            #expect(record.attempts?.first?.error?.code == .connectFailed)
        }
    }

    @Test("a 500 page records http_status and keeps the response")
    func serverError() async throws {
        try await withLocalHTTPServer { server in
            try await withTestDaemon { daemon in
                let output = try await daemon.jobctl(["submit", "fetch", server.base + "/status/500", "--wait"])
                #expect(output.status == 1, "\(output)")
                let record = try await daemon.jobctlJSON(JobRecord.self, ["status", "1"])
                #expect(record.state == .failed)
                #expect(record.error?.code == .httpStatus)
                #expect(record.error?.httpStatus == 500)
                guard case .fetch(let result) = try #require(record.result) else {
                    Issue.record("the response was not kept")
                    return
                }
                #expect(result.status == 500)
                #expect(result.body == "status 500")
            }
        }
    }

    @Test("a server that never answers records timeout within the job's timeout")
    func neverAnswers() async throws {
        let silent = try SilentListener()
        defer { silent.close() }
        try await withTestDaemon { daemon in
            let output = try await daemon.jobctl(
                ["submit", "fetch", "http://127.0.0.1:\(silent.port)/", "--timeout", "1", "--wait"])
            #expect(output.status == 1, "\(output)")
            let record = try await daemon.jobctlJSON(JobRecord.self, ["status", "1"])
            #expect(record.error?.code == .timeout)
            let attempt = try #require(record.attempts?.first)
            let ran = try #require(attempt.finishedAt).timeIntervalSince(attempt.startedAt)
            // The listener never answers: only the 1 s timeout ends the attempt (the upper
            // bound is loose for a busy machine; the daemon's own times, not the round trip).
            #expect(ran >= 0.95 && ran < TimingBound.seconds(strict: 10, loose: 30), "the attempt ran \(ran) s")
        }
    }
}
