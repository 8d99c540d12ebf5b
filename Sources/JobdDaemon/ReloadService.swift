import JobdModel
import JobdRuntime
import Logging
import NIOPosix
import ServiceLifecycle
import Synchronization
import UnixSignals

/// Re-reads the configuration on SIGHUP and applies what can change live.
///
/// `workers` goes to `Dispatcher.setWorkers(_:)`, `limits.per_host_rate` and
/// `limits.host_rates` to `Dispatcher.setHostRates(_:)`, and `log.level` to the shared
/// `LogLevelSwitch`; every other change needs a restart and is named as such. One log
/// line says what changed. A configuration that no longer loads is refused with the usual
/// message, and the running one stays. With `$NOTIFY_SOCKET` it brackets the reload with
/// `RELOADING=1` and `READY=1`, as sd_notify(3) describes.
struct ReloadService: Service, CustomStringConvertible {
    let signals: UnixSignalsSequence
    let load: @Sendable () throws -> LoadedConfiguration
    let dispatcher: Dispatcher
    let logLevel: LogLevelSwitch
    let notifier: SystemdNotifier?
    let logger: Logger
    /// Makes the store's configured schedules exactly the file's.
    let syncSchedules: @Sendable ([ScheduleSpec]) async throws -> Void
    private let running: RunningConfiguration

    /// Makes the service.
    ///
    /// - Parameters:
    ///   - signals: A sequence trapping SIGHUP, made early so a SIGHUP at start-up is kept.
    ///   - initial: The configuration the daemon started with.
    ///   - load: Loads the configuration again (blocking; run on the NIO thread pool).
    ///   - dispatcher: Takes a new worker limit.
    ///   - logLevel: Takes a new log level.
    ///   - notifier: The service manager, if any.
    ///   - logger: The logger.
    init(
        signals: UnixSignalsSequence, initial: LoadedConfiguration,
        load: @escaping @Sendable () throws -> LoadedConfiguration, dispatcher: Dispatcher,
        logLevel: LogLevelSwitch, notifier: SystemdNotifier?, logger: Logger,
        syncSchedules: @escaping @Sendable ([ScheduleSpec]) async throws -> Void = { _ in }
    ) {
        self.syncSchedules = syncSchedules
        self.signals = signals
        self.load = load
        self.dispatcher = dispatcher
        self.logLevel = logLevel
        self.notifier = notifier
        self.logger = logger
        self.running = RunningConfiguration(initial.configuration)
    }

    var description: String { "ReloadService" }

    func run() async throws {
        for await _ in signals.cancelOnGracefulShutdown() {
            await reload()
        }
    }

    /// Loads the configuration and applies the live changes.
    func reload() async {
        notifier?.send("RELOADING=1\nMONOTONIC_USEC=\(SystemdNotifier.monotonicMicroseconds())")
        defer { notifier?.send("READY=1") }
        let loaded: LoadedConfiguration
        do {
            loaded = try await NIOThreadPool.singleton.runIfActive { try load() }
        } catch {
            logger.error("reload refused, the running configuration stays: \(error)")
            return
        }
        // Schedules are always live: the store is made to hold exactly the file's.
        do {
            try await syncSchedules(loaded.configuration.schedules)
        } catch {
            logger.error("reload: cannot store the configured schedules; the stored ones stay: \(error)")
        }
        let current = running.value
        let changes = current.changes(to: loaded.configuration)
        if changes.isEmpty {
            logger.notice(
                "configuration reloaded: nothing changed", metadata: ["config.file": "\(loaded.file ?? "none")"])
            return
        }
        var applied = current
        var ratesChanged = false
        for change in changes where change.isLive {
            switch change.key {
            case "limits.per_host_rate":
                applied.hostRates.perHost = loaded.configuration.hostRates.perHost
                ratesChanged = true
            case "limits.host_rates":
                applied.hostRates.entries = loaded.configuration.hostRates.entries
                ratesChanged = true
            case "workers":
                dispatcher.setWorkers(loaded.configuration.workers)
                applied.workers = loaded.configuration.workers
            case "log.level":
                logLevel.set(loaded.configuration.logLevel)
                applied.logLevel = loaded.configuration.logLevel
            default:
                preconditionFailure("\(change.key) is marked live but has no live apply")
            }
        }
        if ratesChanged { dispatcher.setHostRates(applied.hostRates) }
        // Keys that need a restart stay at their running values, so the next reload names
        // them again until the daemon restarts.
        running.value = applied
        let live = changes.filter(\.isLive).map(\.description)
        let restart = changes.filter { !$0.isLive }.map(\.description)
        logger.notice(
            "configuration reloaded",
            metadata: [
                "config.file": "\(loaded.file ?? "none")",
                "config.applied": "\(live.isEmpty ? "none" : live.joined(separator: "; "))",
                "config.restart_needed": "\(restart.isEmpty ? "none" : restart.joined(separator: "; "))",
            ])
    }
}

/// The configuration in effect, as changed by reloads.
private final class RunningConfiguration: Sendable {
    private let state: Mutex<DaemonConfiguration>

    init(_ configuration: DaemonConfiguration) {
        state = Mutex(configuration)
    }

    var value: DaemonConfiguration {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }
}
