import JobdRuntime
import Logging
import ServiceLifecycle
import Synchronization

/// Tells systemd how the daemon is: `READY=1`, a `STATUS=` line, and `WATCHDOG=1` pings
/// while the dispatcher and the store writer are alive.
///
/// `markReady()` (from the server's `onReady`, after the socket is bound and the store is
/// open) sends `READY=1` with the first status. Then `run()` refreshes the status every
/// `statusInterval` and, when systemd set `WATCHDOG_USEC`, pings every half of it.
///
/// Each watchdog tick asks for a writer probe (`probeWriter`: `JobStore.probe()`,
/// a no-op through the group-commit writer) and pings only if the dispatch loop runs and the probe asked
/// for at the previous tick has returned: a probe has one interval as its deadline. A
/// hung writer never returns the probe, so the pings stop within one interval and systemd
/// restarts the daemon after `WatchdogSec`. At most one probe is outstanding: a hung one
/// is not joined by more.
///
/// - Important: List it first in the `ServiceGroup`, so it stops last and keeps pinging
///   while the dispatcher drains. `STOPPING=1` comes from `StoppingNotifier`, listed last.
final class NotifyService: Service {
    let notifier: SystemdNotifier
    let dispatcher: Dispatcher
    // The store's two answers come as closures, so this service does not name the
    // store's type: only the wiring (Daemon+Services.swift) does.
    let queuedCount: @Sendable () async throws -> Int
    let probeWriter: @Sendable () async throws -> Void
    let watchdogInterval: Duration?
    let statusInterval: Duration
    let logger: Logger
    private let ready = AsyncStream.makeStream(of: Void.self)

    /// Makes the service; it sends nothing until `markReady()`.
    ///
    /// - Parameters:
    ///   - notifier: The `$NOTIFY_SOCKET` sender.
    ///   - dispatcher: Whose loop must be running for a ping, and whose counters go in `STATUS=`.
    ///   - queuedCount: The number of queued jobs, for `STATUS=`.
    ///   - probeWriter: Returns once the store writer has run a no-op; it never
    ///     returns while the writer hangs.
    ///   - watchdogInterval: Half of `WATCHDOG_USEC`; nil sends no pings.
    ///   - statusInterval: How often `STATUS=` is refreshed.
    ///   - logger: The logger.
    init(
        notifier: SystemdNotifier, dispatcher: Dispatcher, queuedCount: @escaping @Sendable () async throws -> Int,
        probeWriter: @escaping @Sendable () async throws -> Void, watchdogInterval: Duration?,
        statusInterval: Duration = .seconds(5), logger: Logger
    ) {
        self.notifier = notifier
        self.dispatcher = dispatcher
        self.queuedCount = queuedCount
        self.probeWriter = probeWriter
        self.watchdogInterval = watchdogInterval
        self.statusInterval = statusInterval
        self.logger = logger
    }

    /// Sends `READY=1` with the first status and starts the status and watchdog loops.
    func markReady() async {
        let status = await statusLine()
        if !(await notifier.sendReliably("READY=1\nSTATUS=\(status)")) {
            logger.warning(
                "cannot send READY=1 to the service manager", metadata: ["notify.socket": "\(notifier.path)"])
        }
        ready.continuation.yield()
        ready.continuation.finish()
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var readiness = self.ready.stream.makeAsyncIterator()
            guard await readiness.next() != nil else { return }
            await withDiscardingTaskGroup { group in
                group.addTask { await self.statusLoop() }
                if let interval = self.watchdogInterval {
                    group.addTask { await self.watchdogLoop(interval: interval) }
                }
            }
        }
    }

    /// `running 3/16, queued 120`; prefixed with `paused:` or `stopping:` when so.
    func statusLine() async -> String {
        let statistics = dispatcher.statistics
        let queued = (try? await queuedCount()).map { "\($0)" } ?? "?"
        let line = "running \(statistics.running)/\(statistics.workers), queued \(queued)"
        if statistics.isShuttingDown { return "stopping: " + line }
        if statistics.isPaused { return "paused: " + line }
        return line
    }

    private func statusLoop() async {
        var last = ""
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: statusInterval)
            } catch {
                return
            }
            let line = await statusLine()
            // Resent when unchanged too: a dropped datagram heals at the next refresh.
            notifier.send("STATUS=\(line)")
            if line != last {
                logger.trace("status", metadata: ["status": "\(line)"])
                last = line
            }
        }
    }

    private func watchdogLoop(interval: Duration) async {
        let ledger = ProbeLedger()
        let (requests, requester) = AsyncStream.makeStream(of: Int.self, bufferingPolicy: .bufferingNewest(1))
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await tick in requests {
                    do {
                        try await self.probeWriter()
                    } catch {
                        // The writer answered: a lock held by another process (`busy`) or a
                        // full disk is a storage fault that submits report, not a hang that a
                        // restart would cure.
                        self.logger.warning("the store writer probe failed", metadata: ["error": "\(error)"])
                    }
                    ledger.completed(tick)
                }
            }
            var tick = 0
            var isHealthy = true
            while !Task.isCancelled {
                if tick > 0 {
                    let isLoopRunning = dispatcher.isLoopRunning
                    let probeReturned = ledger.lastCompleted == tick - 1
                    if isLoopRunning && probeReturned {
                        notifier.send("WATCHDOG=1")
                    }
                    let nowHealthy = isLoopRunning && probeReturned
                    if nowHealthy != isHealthy {
                        isHealthy = nowHealthy
                        if nowHealthy {
                            logger.notice("watchdog pings resumed")
                        } else {
                            logger.error(
                                "watchdog pings withheld",
                                metadata: [
                                    "dispatcher.running": "\(isLoopRunning)",
                                    "store.writer_answered": "\(probeReturned)",
                                ])
                        }
                    }
                }
                // A hung probe is left alone; asking again only replaces the pending request.
                requester.yield(tick)
                tick += 1
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    break
                }
            }
            requester.finish()
        }
    }
}

/// The last writer probe that returned, by tick number.
private final class ProbeLedger: Sendable {
    private let state = Mutex(-1)

    func completed(_ tick: Int) {
        state.withLock { $0 = max($0, tick) }
    }

    var lastCompleted: Int { state.withLock { $0 } }
}
