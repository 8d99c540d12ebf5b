import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// sd_notify: jobd talks to a real datagram listener the way it talks to systemd.
@Suite(.timingSensitive) struct NotifyTests {
    /// The watchdog settings the tests give jobd: 200 ms, so a ping every 100 ms.
    static let watchdogEnvironment = ["WATCHDOG_USEC": "200000"]
    static let pingInterval: Duration = .milliseconds(100)

    @Test("READY=1, STATUS=, WATCHDOG=1 and, after SIGTERM, STOPPING=1 arrive in that order")
    func notifyOrder() async throws {
        let listener = try NotifyListener()
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try await daemon.start(
            ["--workers", "3"], environment: Self.watchdogEnvironment.merging(["NOTIFY_SOCKET": listener.path]) { $1 })
        let ready = try #require(await listener.waitFor { $0.has("READY=1") }, "no READY=1: \(listener.datagrams)")
        let status = try #require(
            await listener.waitFor(after: ready - 1) { $0.has("STATUS=") }, "no STATUS=: \(listener.datagrams)")
        let statusLine = try #require(listener.datagrams[status].fields.first { $0.hasPrefix("STATUS=") })
        #expect(statusLine.hasPrefix("STATUS=running 0/3, queued 0"), "\(statusLine)")
        let ping = try #require(
            await listener.waitFor(after: status) { $0.has("WATCHDOG=1") }, "no WATCHDOG=1: \(listener.datagrams)")
        // More than one: the pings go on, they are not a one-off.
        #expect(await listener.waitFor(after: ping) { $0.has("WATCHDOG=1") } != nil)
        #expect(try await daemon.stop() == 0, "\(daemon.log())")
        let stopping = try #require(
            await listener.waitFor(after: ping, within: .seconds(5)) { $0.has("STOPPING=1") },
            "no STOPPING=1: \(listener.datagrams)")
        let all = listener.datagrams
        // First occurrences in order; READY=1 exactly once (no reload happened).
        #expect(all.filter { $0.has("READY=1") }.count == 1)
        #expect(all.firstIndex { $0.has("READY=1") } == ready)
        #expect(all.firstIndex { $0.has("WATCHDOG=1") }! > ready)
        #expect(all.firstIndex { $0.has("STOPPING=1") } == stopping)
        #expect(stopping > ping)
    }

    @Test("without WATCHDOG_USEC jobd sends READY=1 and STATUS= but no pings")
    func noWatchdog() async throws {
        let listener = try NotifyListener()
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try await daemon.start([], environment: ["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": ""])
        #expect(await listener.waitFor { $0.has("READY=1") } != nil, "\(listener.datagrams)")
        #expect(try await daemon.stop() == 0)
        #expect(await listener.waitFor(within: .seconds(5)) { $0.has("STOPPING=1") } != nil)
        #expect(!listener.datagrams.contains { $0.has("WATCHDOG=1") }, "\(listener.datagrams)")
    }

    @Test("an abstract NOTIFY_SOCKET (@name) is reached too")
    func abstractSocket() async throws {
        let listener = try NotifyListener(abstract: true)
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try await daemon.start([], environment: ["NOTIFY_SOCKET": listener.path])
        #expect(await listener.waitFor { $0.has("READY=1") } != nil, "\(listener.datagrams)")
        #expect(try await daemon.stop() == 0)
    }

    @Test("a store writer made to hang stops the WATCHDOG=1 pings within one interval")
    func hungWriterStopsPings() async throws {
        let listener = try NotifyListener()
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try await daemon.start(
            [],
            environment: Self.watchdogEnvironment.merging([
                "NOTIFY_SOCKET": listener.path, "JOBD_TEST_HANG_WRITER": "after:1s",
            ]) { $1 })
        let hung = try #require(
            await listener.waitFor(within: .seconds(15)) { $0.has("X_JOBD_TEST=writer-hung") },
            "the hook did not fire: \(listener.datagrams)\n\(daemon.log())")
        let before = listener.datagrams[..<hung].filter { $0.has("WATCHDOG=1") }.count
        #expect(before >= 3, "pings must flow while the writer works: \(listener.datagrams)")
        // Listen for ten more intervals. A ping already due for a probe that returned
        // before the hang may still come (one interval at most); then none.
        await listener.collect(until: ContinuousClock.now + Self.pingInterval * 10)
        let after = listener.datagrams[(hung + 1)...].filter { $0.has("WATCHDOG=1") }
        #expect(after.count <= 1, "pings after the writer hung: \(after.count)\n\(listener.datagrams)")
        if let late = after.first {
            // One interval in principle; scheduling on 2 shared cores adds to it.
            #expect(
                late.receivedAt - listener.datagrams[hung].receivedAt
                    <= TimingBound.duration(strict: Self.pingInterval * 5, loose: Self.pingInterval * 10))
        }
        #expect(daemon.log().contains("watchdog pings withheld"), "\(daemon.log())")
        // A hung writer cannot commit a drain: the process is killed, as systemd's
        // watchdog would.
        try await daemon.stop(signal: SIGKILL)
    }

    @Test("a database locked by another process past the ping interval does not stop the pings")
    func lockedDatabaseKeepsPinging() async throws {
        guard let python = LockHolder.python else { try Test.cancel("needs python3 and its sqlite3 module") }
        let listener = try NotifyListener()
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        // A ping every 3 s, above the store's 2 s busy timeout, as under the unit (10 s / 5 s).
        try await daemon.start([], environment: ["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "6000000"])
        try #require(await listener.waitFor(within: .seconds(15)) { $0.has("WATCHDOG=1") } != nil)
        let holder = try LockHolder(python: python, database: daemon.databasePath, directory: daemon.directory)
        try holder.process.run()
        defer { if holder.process.isRunning { kill(holder.process.processIdentifier, SIGKILL) } }
        try #require(try await holder.wait(for: "locked", within: .seconds(10)), "lock holder: \(holder.output)")
        let lockedAt = ContinuousClock.now
        await listener.collect(until: lockedAt + .seconds(10))
        holder.release()
        let pings = listener.datagrams.filter { $0.has("WATCHDOG=1") }.map(\.receivedAt)
        let during = pings.filter { $0 > lockedAt }
        #expect(during.count >= 2, "pings while locked: \(during.count)\n\(daemon.log())")
        // systemd kills after WATCHDOG_USEC without a ping: no gap may come near it.
        let gaps = zip(pings.dropFirst(), pings).map { $0 - $1 }
        #expect(gaps.allSatisfy { $0 < .seconds(5) }, "gaps \(gaps)\n\(daemon.log())")
        #expect(daemon.isRunning)
        #expect(try await daemon.stop() == 0)
    }
}
