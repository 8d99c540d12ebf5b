import Foundation
import JobdModel
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// SIGTERM's drain: short jobs finish within the grace period, long ones go back to the queue.
@Suite(.timingSensitive) struct ShutdownTests {
    @Test("SIGTERM with grace 2 s: delay(1) jobs succeed, delay(60) jobs are queued again without using an attempt")
    func drain() async throws {
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try await daemon.start(["--workers", "20", "--grace", "2"])
        let short = (0..<10).map { _ in #"{"kind":"delay","seconds":1}"# }
        let long = (0..<10).map { _ in #"{"kind":"delay","seconds":60}"# }
        let body = #"{"jobs":["# + (short + long).joined(separator: ",") + "]}"
        let submit = try rawHTTP(
            socketPath: daemon.socketPath,
            "POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        )
        try #require(submit.hasPrefix("HTTP/1.1 201"), "\(submit)")
        let deadline = ContinuousClock.now + .seconds(20)
        while try await daemon.jobctlJSON(StatsResponse.self, ["stats"]).running < 20, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let stopStarted = ContinuousClock.now
        let status = try await daemon.stop(signal: SIGTERM)
        let stopTook = ContinuousClock.now - stopStarted
        #expect(status == 0, "\(daemon.log())")
        #expect(!FileManager.default.fileExists(atPath: daemon.socketPath))
        // It did not wait for the 60 s jobs: half their length is loose enough for a
        // machine many times slower than this one.
        #expect(stopTook < .seconds(30), "the drain took \(stopTook) with a 2 s grace")

        try await daemon.start(["--workers", "20", "--grace", "0"])
        let records = try await daemon.jobctlJSON(JobListResponse.self, ["list", "--limit", "100"]).jobs
        let byID = Dictionary(uniqueKeysWithValues: records.map { ($0.id, $0) })
        for id in 1...10 {
            #expect(byID[JobID(Int64(id))]?.state == .succeeded, "short job \(id)")
        }
        for id in 11...20 {
            let record = try await daemon.jobctlJSON(JobRecord.self, ["status", String(id)])
            // Queued again (or already running again after the restart), never failed.
            #expect(record.state == .queued || record.state == .running, "long job \(id): \(record.state)")
            #expect(record.attempts?.first?.outcome == .interrupted)
            #expect(record.attempts?.first?.error?.code == .interrupted)
            #expect(record.maxAttempts == 1)
        }
        // They run again after the restart: every long job gets a new attempt.
        let runDeadline = ContinuousClock.now + .seconds(20)
        while try await daemon.jobctlJSON(StatsResponse.self, ["stats"]).running < 10, ContinuousClock.now < runDeadline
        {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(try await daemon.jobctlJSON(StatsResponse.self, ["stats"]).running == 10)
        _ = try await daemon.jobctl(["cancel"] + (11...20).map(String.init))
        #expect(try await daemon.stop() == 0)
    }
}
