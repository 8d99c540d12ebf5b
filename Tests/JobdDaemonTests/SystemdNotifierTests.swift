import Testing

@testable import JobdDaemon

#if canImport(Glibc)
    import Glibc
#endif

/// `SystemdNotifier`: which `$NOTIFY_SOCKET` and `$WATCHDOG_USEC` values it takes.
@Suite struct SystemdNotifierTests {
    @Test("no notifier without NOTIFY_SOCKET or with one that is not a Unix socket address")
    func noSocket() throws {
        #expect(try SystemdNotifier(environment: [:]) == nil)
        #expect(try SystemdNotifier(environment: ["NOTIFY_SOCKET": ""]) == nil)
        #expect(try SystemdNotifier(environment: ["NOTIFY_SOCKET": "relative/path"]) == nil)
        #expect(try SystemdNotifier(environment: ["NOTIFY_SOCKET": "/" + String(repeating: "n", count: 200)]) == nil)
        #expect(
            try SystemdNotifier(environment: ["NOTIFY_SOCKET": "/run/systemd/notify"])?.path == "/run/systemd/notify")
        #expect(try SystemdNotifier(environment: ["NOTIFY_SOCKET": "@jobd-test"])?.path == "@jobd-test")
    }

    @Test("the watchdog interval is half of WATCHDOG_USEC, and only for this process")
    func watchdogInterval() {
        #expect(SystemdNotifier.watchdogInterval(environment: [:]) == nil)
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "0"]) == nil)
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "soon"]) == nil)
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "10000000"]) == .seconds(5))
        #expect(
            SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "200000", "WATCHDOG_PID": "\(getpid())"])
                == .milliseconds(100))
        #expect(
            SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1"]) == nil)
    }
}
