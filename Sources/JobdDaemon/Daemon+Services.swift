import AsyncHTTPClient
import Foundation
import JobdModel
import JobdRuntime
import JobdServer
import JobdStore
import Logging
import Metrics
import NIOPosix
import Prometheus
import ServiceLifecycle
import UnixSignals

// The wiring: the one place that opens the store and hands it to the services. It knows
// the store only as `any JobStore` from a `StoreEngine` the executable picked.
extension Daemon {
    /// Opens the socket and the store, builds the services and runs them in one
    /// `ServiceGroup` until a graceful shutdown ends it, then cleans up.
    ///
    /// - Parameters:
    ///   - loaded: The configuration to start with.
    ///   - settings: The store's settings.
    ///   - engine: The store's engine.
    ///   - activation: The listening socket systemd passed, or nil to bind the configured path.
    ///   - load: Loads it again, for SIGHUP (blocking: run on the NIO thread pool).
    ///   - logLevel: The shared level that a reload changes.
    ///   - logger: The daemon's logger.
    /// - Returns: `.success` after a clean stop, `.failure` when a service failed.
    /// - Throws: `StartFailure` when it cannot start; `ConfigurationError` for a bad
    ///   `JOBD_TEST_HANG_WRITER`; an error of the last clean-up after a clean stop.
    static func serve(
        _ loaded: LoadedConfiguration, settings: StoreSettings, engine: any StoreEngine,
        activation: SocketActivation?, load: @escaping @Sendable () throws -> LoadedConfiguration,
        logLevel: LogLevelSwitch, logger: Logger
    ) async throws -> DaemonExitStatus {
        let configuration = loaded.configuration
        // Before anything makes a metric: metrics made earlier stay bound to the no-op backend.
        let registry = bootstrapMetrics()
        let environment = ProcessInfo.processInfo.environment
        // Trap SIGHUP before anything else: its default action ends the process, and a
        // reload sent while starting is then applied once running.
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        let notifier: SystemdNotifier?
        do {
            notifier = try SystemdNotifier(environment: environment)
        } catch {
            throw StartFailure(message: "cannot create the notify socket: \(error)")
        }

        // Order matters: a live daemon on the socket must be detected before this one
        // recovers "crashed" attempts that are in fact that daemon's running jobs.
        let socketPath = configuration.resolvedSocketPath
        let databasePath = configuration.resolvedDatabasePath
        let listener: SocketListener
        let handoff: ListenerHandoff?
        if let activation {
            // systemd owns the socket and starts one jobd for it: nothing to prepare, and
            // nothing another daemon could be serving on.
            let inheritedHandoff = ListenerHandoff(logger: logger)
            handoff = inheritedHandoff
            listener = .inherited(descriptor: activation.descriptor, handoff: inheritedHandoff)
            logger.notice(
                "serving on the socket systemd passed (socket activation); its mode and group are the socket unit's",
                metadata: [
                    "socket.path": "\(activation.path)", "socket.fd": "\(activation.descriptor)",
                    "socket.name": "\(activation.name ?? "none")",
                ])
            if activation.path != socketPath {
                logger.warning(
                    "systemd's socket is not at server.socket; clients must be given its path",
                    metadata: ["socket.path": "\(activation.path)", "server.socket": "\(socketPath)"])
            }
            for ignored in activation.ignored {
                logger.warning("ignored a file descriptor systemd passed", metadata: ["socket.ignored": "\(ignored)"])
            }
        } else {
            handoff = nil
            listener = .bind
            do {
                try await SocketFile.prepare(path: socketPath)
            } catch {
                throw StartFailure(message: "\(error)")
            }
        }
        let servedPath = activation?.path ?? socketPath
        let opened: OpenedStore
        do {
            opened = try await engine.open(settings)
        } catch {
            // A cluster's errors name the server and the reason; the file advice is SQLite's.
            if settings.cluster != nil {
                // A schema newer than this binary is no outage: restarting cannot help.
                let isTooNew = (error as? StoreError)?.code == .schemaTooNew
                throw StartFailure(message: "\(error)", exitStatus: isTooNew ? .damagedDatabase : .failure)
            }
            throw StartFailure.storage(error, path: databasePath)
        }
        let store = opened.store
        let recovery: RescueReport
        do {
            recovery = try await store.rescue()
        } catch {
            throw StartFailure.storage(error, path: databasePath)
        }
        if recovery.interruptedAttempts > 0 {
            logger.notice(
                "recovered attempts interrupted by a crash",
                metadata: [
                    "attempts": "\(recovery.interruptedAttempts)", "requeued": "\(recovery.requeuedJobs)",
                    "failed": "\(recovery.failedJobs)",
                ])
        }

        // The file's schedules, exactly: added, changed, and removed when gone from it.
        do {
            let change = try await store.syncConfiguredSchedules(configuration.schedules, now: Date())
            ScheduleSync.log(change, logger: logger)
        } catch {
            throw StartFailure.storage(error, path: databasePath)
        }

        let hook = try WriterHangHook.armed(
            by: environment, hangWriter: opened.hangWriterForTesting, notifier: notifier, logger: logger)

        // The configuration already checked the denied networks; a failure here is a bug.
        let httpClient: HTTPClient
        let fetchExecutor: FetchExecutor
        do {
            httpClient = try FetchExecutor.makeHTTPClient(
                options: configuration.fetchOptions,
                connectionsPerHost: configuration.hostLimit ?? configuration.workers)
            fetchExecutor = try FetchExecutor(client: httpClient, options: configuration.fetchOptions)
        } catch {
            throw StartFailure(message: "fetch.denied_networks: \(error)")
        }

        let events = EventBroadcaster()
        let dispatcher = Dispatcher(
            store: store,
            executors: [
                .fetch: fetchExecutor,
                .delay: DelayExecutor(),
            ],
            options: configuration.runtimeOptions,
            events: events, logger: logger)
        let notify = notifier.map {
            NotifyService(
                notifier: $0, dispatcher: dispatcher, queuedCount: { try await store.counts().queued },
                probeWriter: { try await store.probe() },
                watchdogInterval: SystemdNotifier.watchdogInterval(environment: environment), logger: logger)
        }
        let serverOptions = configuration.serverOptions
        let history = StatsHistory()
        let router = APIServer.makeRouter(
            store: store, dispatcher: dispatcher, events: events, options: serverOptions, metrics: registry,
            history: history)
        let application = APIServer.makeApplication(
            router: router, options: serverOptions, listener: listener, logger: logger
        ) {
            logger.info(
                "jobd ready",
                metadata: [
                    "socket.path": "\(servedPath)", "socket.from": "\(activation == nil ? "jobd" : "systemd")",
                    "database": "\(store.location)",
                    "workers": "\(configuration.workers)", "version": "\(jobdVersion)",
                    "config.file": "\(loaded.file ?? "none")",
                ])
            await notify?.markReady()
        }
        let reload = ReloadService(
            signals: hangups, initial: loaded, load: load, dispatcher: dispatcher, logLevel: logLevel,
            notifier: notifier, logger: logger,
            syncSchedules: { schedules in
                let change = try await store.syncConfiguredSchedules(schedules, now: Date())
                ScheduleSync.log(change, logger: logger)
            })
        // On a cluster a slot that passed during a leader handover (at most about a lease)
        // still fires; on one node only what passed while jobd ran counts as on time.
        let scheduleRunner = ScheduleRunner(
            store: store, dispatcher: dispatcher,
            missedGrace: settings.cluster == nil ? .zero : configuration.nodeLease * 2, logger: logger)

        // ServiceGroup tells services to stop in reverse order, each after the previous
        // one returned: STOPPING=1 goes out first; the dispatcher drains while the server
        // still answers (503 for submits, waits and status as usual); the server stops;
        // the notifier, first in the list, keeps the watchdog fed until the end.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let notify { services.append(.init(service: notify)) }
        services.append(.init(service: application))
        if let listen = configuration.dashboardListen {
            services.append(
                .init(
                    service: APIServer.makeDashboardListener(
                        router: router, host: listen.host, port: listen.port, options: serverOptions, logger: logger)))
        }
        services.append(
            .init(service: StatsHistoryRecorder(history: history, store: store, dispatcher: dispatcher, logger: logger))
        )
        services.append(.init(service: dispatcher))
        services.append(.init(service: scheduleRunner))
        services.append(.init(service: reload))
        if let hook { services.append(.init(service: hook)) }
        if let notifier { services.append(.init(service: StoppingNotifier(notifier: notifier))) }
        // Told to stop first: under socket activation the listener closes at once, so new
        // connections wait in systemd's backlog for the next jobd instead of getting 503s.
        if let handoff { services.append(.init(service: handoff)) }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                cancellationSignals: [],
                logger: logger))
        do {
            try await group.run()
        } catch {
            logger.error("stopped with an error", metadata: ["error": "\(error)"])
            // systemd's socket stays: it outlives this process.
            if activation == nil { SocketFile.remove(path: socketPath) }
            try? await httpClient.shutdown()
            return .failure
        }
        if activation == nil { SocketFile.remove(path: socketPath) }
        try await httpClient.shutdown()
        try await opened.close()
        withExtendedLifetime(hangups) {}
        logger.info("jobd stopped")
        return .success
    }

    /// Routes swift-metrics to a Prometheus registry that `/metrics` renders.
    ///
    /// Called once per process (swift-metrics allows one bootstrap).
    static func bootstrapMetrics() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300),
        ]
        factory.defaultValueHistogramBuckets = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]
        MetricsSystem.bootstrap(factory)
        return registry
    }
}
