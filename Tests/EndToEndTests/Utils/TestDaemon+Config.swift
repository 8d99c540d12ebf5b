import Foundation
import Testing

/// Runs `body` with a started daemon whose configuration file holds `config`; stops it
/// with SIGTERM afterwards, expecting exit 0.
func withTestDaemon(config: String, _ arguments: [String] = [], _ body: (TestDaemon) async throws -> Void)
    async throws
{
    let daemon = try TestDaemon()
    defer { daemon.cleanUp() }
    try Data(config.utf8).write(to: daemon.directory.appendingPathComponent("jobd.yaml"))
    try await daemon.start(arguments)
    do {
        try await body(daemon)
    } catch {
        Issue.record("daemon log:\n\(daemon.log())")
        throw error
    }
    let status = try await daemon.stop()
    #expect(status == 0, "jobd exit status after SIGTERM; log:\n\(daemon.log())")
}

/// Checks `condition` every 20 ms until it holds; records an issue and throws past
/// `timeout` (a failure-only bound, generous for a busy machine).
func poll(_ what: String, timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("timed out after \(timeout) waiting for: \(what)")
    throw CancellationError()
}
