import Foundation
import JobdModel
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Per-host rate limits through the real jobd and jobctl: a waiting fetch is visible, can
/// be cancelled, goes back to the queue on a stop, and the keys load from YAML.
@Suite(.timingSensitive) struct RateLimitTests {
    static func fetchLines(_ server: RecordingHTTPServer, _ numbers: ClosedRange<Int>) -> String {
        numbers.map { #"{"kind":"fetch","url":"\#(server.base)/hit/\#($0)"}"# }.joined(separator: "\n") + "\n"
    }

    @Test("a fetch waiting for its host's rate shows it in status and stats, and a cancel ends it unrun")
    func statusAndCancel() async throws {
        try await withRecordingHTTPServer { server in
            let config = "limits:\n  host_rates: {\"\(server.hostKey)\": \"1/m\"}\n"
            try await withTestDaemon(config: config) { daemon in
                let submit = try await daemon.jobctl(["submit", "--file", "-"], stdin: Self.fetchLines(server, 1...2))
                #expect(submit.status == 0, "\(submit)")
                try await waitUntil("job 1 fetched and job 2 waiting", deadline: .seconds(60)) {
                    let stats = try await daemon.jobctlJSON(StatsResponse.self, ["stats"])
                    return server.hits.count == 1 && stats.rateLimited == 1
                }
                let record = try await daemon.jobctlJSON(JobRecord.self, ["status", "2"])
                #expect(record.state == .running)
                let wait = try #require(record.rateLimit)
                #expect(wait.host == server.hostKey)
                #expect(wait.startsAt.timeIntervalSinceNow > 30, "token due at \(wait.startsAt)")
                let human = try await daemon.jobctl(["status", "2"])
                #expect(human.stdout.contains("waiting for rate limit of \(server.hostKey)"), "\(human)")
                let stats = try await daemon.jobctl(["stats"])
                #expect(stats.stdout.contains("rate_limited:  1"), "\(stats)")
                let metrics = try rawHTTP(
                    socketPath: daemon.socketPath,
                    "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                #expect(metrics.contains("jobd_fetches_rate_limited 1"), "\(metrics)")
                #expect(metrics.contains("jobd_rate_limit_waits_total 1"), "\(metrics)")

                let cancel = try await daemon.jobctl(["cancel", "2"])
                #expect(cancel.status == 0, "\(cancel)")
                try await waitUntil("job 2 cancelled", deadline: .seconds(60)) {
                    try await daemon.jobctlJSON(JobRecord.self, ["status", "2"]).state == .cancelled
                }
                let cancelled = try await daemon.jobctlJSON(JobRecord.self, ["status", "2"])
                #expect(cancelled.error?.code == .cancelled)
                #expect(cancelled.rateLimit == nil)
                #expect(try await daemon.jobctlJSON(StatsResponse.self, ["stats"]).rateLimited == 0)
                #expect(server.hits.map(\.path) == ["/hit/1"])

                // Reloaded live: a faster rate takes effect without a restart.
                try Data("limits:\n  host_rates: {\"\(server.hostKey)\": \"100/s\"}\n".utf8).write(
                    to: daemon.directory.appendingPathComponent("jobd.yaml"))
                kill(try #require(daemon.process).processIdentifier, SIGHUP)
                try await waitUntil("the reload is logged", deadline: .seconds(60)) {
                    daemon.log().contains("configuration reloaded")
                }
                #expect(
                    daemon.log().contains(
                        #"limits.host_rates: {\"\#(server.hostKey)\": \"1/m\"} -> {\"\#(server.hostKey)\": \"100/s\"}"#),
                    "\(daemon.log())")
                let more = try await daemon.jobctl(["submit", "--file", "-"], stdin: Self.fetchLines(server, 3...7))
                #expect(more.status == 0, "\(more)")
                try await waitUntil("the 5 fetches after the reload ran", deadline: .seconds(60)) {
                    server.hits.count == 6
                }
            }
        }
    }

    @Test("SIGTERM puts a waiting fetch back in the queue without an attempt; after a restart it runs once")
    func stopRequeues() async throws {
        try await withRecordingHTTPServer { server in
            let daemon = try TestDaemon()
            defer { daemon.cleanUp() }
            let config = "limits:\n  host_rates: {\"\(server.hostKey)\": \"1/m\"}\n"
            try Data(config.utf8).write(to: daemon.directory.appendingPathComponent("jobd.yaml"))
            try await daemon.start(["--grace", "30"])
            let submit = try await daemon.jobctl(["submit", "--file", "-"], stdin: Self.fetchLines(server, 1...2))
            #expect(submit.status == 0, "\(submit)")
            try await waitUntil("job 2 waits", deadline: .seconds(60)) {
                try await daemon.jobctlJSON(StatsResponse.self, ["stats"]).rateLimited == 1
            }
            let stopStarted = ContinuousClock.now
            #expect(try await daemon.stop() == 0, "\(daemon.log())")
            let stopTook = ContinuousClock.now - stopStarted
            // Neither the 30 s grace nor the token a minute away held up the stop (loose:
            // far below either, for a busy machine).
            #expect(stopTook < .seconds(20), "the stop took \(stopTook)")
            #expect(daemon.log().contains("fetches waiting for a rate limit go back to the queue"), "\(daemon.log())")

            try await daemon.start(["--grace", "0"])
            let wait = try await daemon.jobctl(["wait", "2"])
            #expect(wait.status == 0, "\(wait)")
            let record = try await daemon.jobctlJSON(JobRecord.self, ["status", "2"])
            #expect(record.state == .succeeded)
            // The waiting attempt was released, not interrupted: only the run after the restart.
            #expect(record.attempts?.map(\.outcome) == [.succeeded])
            #expect(record.attemptCount == 1)
            #expect(server.hits.map(\.path) == ["/hit/1", "/hit/2"])
            #expect(try await daemon.stop() == 0)
        }
    }

    @Test("--check-config shows the issue's YAML map; a bad rate exits 78 naming the key")
    func checkConfig() async throws {
        let directory = URL(fileURLWithPath: "/tmp").appendingPathComponent("jr-" + UUID().uuidString.prefix(8))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let good = directory.appendingPathComponent("good.yaml").path
        try Data("limits:\n  per_host_rate: 600/m\n  host_rates: {\"127.0.0.1:8080\": \"20/s\"}\n".utf8).write(
            to: URL(fileURLWithPath: good))
        let check = try await run(Binaries.jobd, ["--check-config", "--config", good], timeout: .seconds(30))
        #expect(check.status == 0, "\(check)")
        #expect(check.stdout.contains("  per_host_rate: \"600/m\"  # \(good)"), "\(check)")
        #expect(check.stdout.contains("  host_rates: {\"127.0.0.1:8080\": \"20/s\"}  # \(good)"), "\(check)")
        let fromEnvironment = try await run(
            Binaries.jobd, ["--check-config", "--config", good],
            environment: ["JOBD_LIMITS_HOST_RATES": "127.0.0.1:8080=20/s,api.example.com=2/s"], timeout: .seconds(30))
        #expect(
            fromEnvironment.stdout.contains(
                #"  host_rates: {"127.0.0.1:8080": "20/s", "api.example.com": "2/s"}  # JOBD_LIMITS_HOST_RATES"#),
            "\(fromEnvironment)")
        let bad = directory.appendingPathComponent("bad.yaml").path
        try Data("limits:\n  host_rates:\n    api.example.com: fast\n".utf8).write(to: URL(fileURLWithPath: bad))
        let refused = try await run(Binaries.jobd, ["--check-config", "--config", bad], timeout: .seconds(30))
        #expect(refused.status == 78, "\(refused)")
        #expect(
            refused.stderr.contains(
                #"jobd: invalid configuration: limits.host_rates: "api.example.com": "fast" is not a rate (like 20/s, 600/m, 2/h or 0.5/s) (in \#(bad))"#
            ), "\(refused)")
    }
}
