import Foundation
import JobdModel
import Testing

/// Fetch jobs against servers that misbehave on purpose (`FaultServer` on 127.0.0.1), and a
/// host that cannot resolve: each fault fails the attempt with its own error code, in
/// bounded time, and the daemon lets go of the connection.
///
/// Two faults are tested elsewhere: a server that accepts and never answers
/// (`FetchTests.neverAnswers`, `timeout`) and a redirect loop or endless chain
/// (`FetchPolicyTests.redirectLimit`, `redirect_limit`).
@Suite(.timingSensitive) struct FetchFaultTests {
    /// The body cap the endless-body tests configure, small so they end at once.
    static let smallCap = 65536

    @Test(
        "a server trickling one byte a second records timeout at the job's 2 s timeout",
        arguments: [FaultServer.Fault.trickleHead, .trickleBody])
    func trickle(_ fault: FaultServer.Fault) async throws {
        try await withFaultServer(fault) { server in
            try await withTestDaemon { daemon in
                let record = try await Self.fetch(server.base + "/", timeout: 2, on: daemon)
                #expect(record.state == .failed)
                #expect(record.error?.code == .timeout, "\(String(describing: record.error))")
                #expect(Self.mentionsTimeout(record.error?.message, seconds: 2), "\(String(describing: record.error))")
                let ran = try Self.attemptSeconds(record)
                // At the timeout, not later: the trickle never ends by itself (10 s is loose
                // enough for a machine several times slower than this one).
                #expect(ran >= 1.95 && ran < TimingBound.seconds(strict: 10, loose: 30), "the attempt ran \(ran) s")
                // Bytes kept arriving (at 0, 1 and 2 s): a trickle, not a silent server.
                #expect(server.observed.bytesSent >= 2, "\(server.observed)")
                // The daemon gives up the connection rather than keep it trickling.
                let hungUp = try await server.waitUntil(timeout: .seconds(5)) { $0.clientHangUps >= 1 }
                #expect(hungUp, "the daemon kept the trickling connection open: \(server.observed)")
            }
        }
    }

    @Test(
        "an endless body (chunked, a 1 TiB Content-Length, or until close) records body_too_large",
        arguments: [FaultServer.Fault.endlessChunked, .endlessDeclared, .endlessUntilClose])
    func endlessBody(_ fault: FaultServer.Fault) async throws {
        try await withFaultServer(fault) { server in
            try await Self.withDaemon(config: "fetch:\n  max_body_bytes: \(Self.smallCap)\n") { daemon in
                let record = try await Self.fetch(server.base + "/", timeout: 20, on: daemon)
                #expect(record.state == .failed)
                #expect(record.error?.code == .bodyTooLarge, "\(String(describing: record.error))")
                let message = record.error?.message ?? ""
                #expect(message.contains("\(Self.smallCap)-byte cap"), "\(message)")
                if fault == .endlessDeclared {
                    // Refused on the declared length, before reading the body.
                    #expect(message.contains("declares 1099511627776 bytes"), "\(message)")
                }
                // The daemon stops reading and closes: the server's next send fails.
                let hungUp = try await server.waitUntil(timeout: .seconds(5)) { $0.clientHangUps >= 1 }
                #expect(hungUp, "the daemon kept the endless connection open: \(server.observed)")
            }
        }
    }

    @Test("an endless body at the default 10 MiB cap stops there; the daemon's peak memory grows < 64 MiB")
    func endlessBodyMemory() async throws {
        try await withFaultServer(.endlessChunked) { server in
            try await withTestDaemon { daemon in
                let pid = try #require(daemon.process?.processIdentifier)
                let before = try #require(Self.peakResidentKiB(pid))
                let record = try await Self.fetch(server.base + "/", timeout: 20, on: daemon)
                #expect(record.error?.code == .bodyTooLarge, "\(String(describing: record.error))")
                #expect(record.error?.message.contains("10485760-byte cap") == true)
                #expect(server.observed.bytesSent > 10 * 1024 * 1024, "\(server.observed)")
                let after = try #require(Self.peakResidentKiB(pid))
                #expect(after - before < 64 * 1024, "peak RSS grew from \(before) KiB to \(after) KiB")
            }
        }
    }

    @Test(
        "a connection reset (or closed short) records connection_reset",
        arguments: [
            FaultServer.Fault.resetOnAccept, .resetAfterRequest, .resetInHead, .resetInBody, .closeAfterRequest,
            .closeInHead, .closeInBody, .closeInChunk,
        ])
    func reset(_ fault: FaultServer.Fault) async throws {
        try await withFaultServer(fault) { server in
            try await withTestDaemon { daemon in
                let record = try await Self.fetch(server.base + "/", timeout: 20, on: daemon)
                #expect(record.state == .failed)
                #expect(record.error?.code == .connectionReset, "\(String(describing: record.error))")
                #expect(
                    record.error?.message.contains("127.0.0.1:\(server.port)") == true,
                    "\(String(describing: record.error))")
                #expect(server.observed.connections >= 1)
            }
        }
    }

    /// Who resolves the fetch's host name: the destination check before connecting (on
    /// with the default denied networks), or the HTTP client (when none is denied).
    enum Resolver: String, Sendable, CustomStringConvertible {
        case destinationCheck
        case httpClient
        var description: String { rawValue }
        var config: String {
            switch self {
            case .destinationCheck: "# test: default denied networks\n"
            case .httpClient: "fetch:\n  denied_networks: []\n"
            }
        }
    }

    @Test(
        "an unresolvable host (RFC 2606 .invalid) records dns_failed, not connect_failed",
        arguments: [Resolver.destinationCheck, .httpClient])
    func unresolvableHost(_ resolver: Resolver) async throws {
        try await Self.withDaemon(config: resolver.config) { daemon in
            // A long timeout: a slow resolver must show as a slow dns_failed, not a timeout.
            let record = try await Self.fetch("http://no-such-host.invalid/", timeout: 30, on: daemon)
            #expect(record.state == .failed)
            #expect(record.error?.code == .dnsFailed, "\(String(describing: record.error))")
            #expect(
                record.error?.message.contains("cannot resolve no-such-host.invalid") == true,
                "\(String(describing: record.error))")
        }
    }

    // MARK: - Helpers

    /// Submits a fetch of `url` with `--wait`, then reads its record (it is job 1).
    ///
    /// Each caller's fault ends the attempt with its own code, never `timeout`: that, not
    /// the wall-clock time of the round trip, shows the fault was detected before the
    /// job's timeout (wall-clock bounds fail on a busy machine; latency is the bench's).
    static func fetch(_ url: String, timeout: Double, on daemon: TestDaemon) async throws -> JobRecord {
        let output = try await daemon.jobctl([
            "submit", "fetch", url, "--timeout", String(format: "%g", timeout), "--wait",
        ])
        #expect(output.status == 1, "\(output)")
        let record = try await daemon.jobctlJSON(JobRecord.self, ["status", "1"])
        #expect(record.attempts?.count == 1)
        if let code = record.error?.code {
            #expect(output.stderr.contains(code.rawValue), "\(output)")
        }
        return record
    }

    /// How long the first attempt ran, from its record.
    static func attemptSeconds(_ record: JobRecord) throws -> Double {
        let attempt = try #require(record.attempts?.first)
        return try #require(attempt.finishedAt).timeIntervalSince(attempt.startedAt)
    }

    /// Whether a timeout message names the job's timeout (the runtime's "ran past its 2s
    /// timeout" or the client deadline's "within 2.0s").
    static func mentionsTimeout(_ message: String?, seconds: Int) -> Bool {
        guard let message else { return false }
        return message.contains("\(seconds)s") || message.contains("\(seconds).0s")
    }

    /// The process's peak resident set (`VmHWM`), in KiB.
    static func peakResidentKiB(_ pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
        }
        return nil
    }

    /// Runs `body` with a daemon whose config file is `yaml`; stops it with SIGTERM
    /// afterwards, expecting exit 0.
    static func withDaemon(config yaml: String, _ body: (TestDaemon) async throws -> Void) async throws {
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        // TestDaemon.start keeps a config that is already there.
        try Data(yaml.utf8).write(to: daemon.directory.appendingPathComponent("jobd.yaml"))
        try await daemon.start()
        do {
            try await body(daemon)
        } catch {
            Issue.record("daemon log:\n\(daemon.log())")
            throw error
        }
        let status = try await daemon.stop()
        #expect(status == 0, "jobd exit status after SIGTERM; log:\n\(daemon.log())")
    }
}
