import ArgumentParser
import AsyncHTTPClient
import Foundation
import JobdModel
import JobdRuntime
import JobdServer
import JobdStore
import JobdStoreSQLite
import Logging
import Metrics
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle
import UnixSignals

/// The `jobd` daemon: wiring only. Everything worth testing lives in the libraries.
@main
struct Jobd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobd",
        abstract: "The jobd job daemon: durable fetch and delay jobs over a Unix socket.",
        discussion: """
            Settings come from, highest first: these flags, JOBD_* environment variables \
            (the key upper-cased, dots as underscores: fetch.timeout is JOBD_FETCH_TIMEOUT), the \
            YAML file (--config, else $JOBD_CONFIG, else /etc/jobd/jobd.yaml if it exists), and \
            the defaults. With nothing set it serves on $XDG_RUNTIME_DIR/jobd/jobd.sock with its \
            database in $XDG_STATE_HOME/jobd/jobd.sqlite (root: /run/jobd/jobd.sock and \
            /var/lib/jobd/jobd.sqlite; under systemd: $RUNTIME_DIRECTORY and $STATE_DIRECTORY).
            SIGHUP reloads the file and applies workers and log.level live. SIGTERM or SIGINT \
            stops it gracefully: no new jobs, running jobs get the grace period, the rest are re-queued.
            Exit codes: 0 stopped cleanly, 1 could not start or failed, 65 the database file is \
            damaged or not a database, 78 a bad configuration.
            """,
        version: jobdVersion)

    @Option(help: "The YAML configuration file ($JOBD_CONFIG, else /etc/jobd/jobd.yaml when it exists).")
    var config: String?

    @Flag(help: "Check the configuration, print the effective settings as YAML and exit (0 ok, 78 bad).")
    var checkConfig = false

    @Option(help: "The Unix socket to serve on (socket.path, $JOBD_SOCKET).")
    var socket: String?

    @Option(help: "The SQLite database file (database.path, $JOBD_DATABASE).")
    var database: String?

    @Option(help: "The most jobs running at once, 1-100000 (workers, $JOBD_WORKERS, default 16).")
    var workers: String?

    @Option(help: "SQLite durability: full or normal (database.synchronous, $JOBD_SYNCHRONOUS, default full).")
    var synchronous: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical (log.level, $JOBD_LOG_LEVEL, default info).")
    var logLevel: String?

    @Option(
        help: "Seconds running jobs may go on after SIGTERM before they are re-queued (grace, $JOBD_GRACE, default 10)."
    )
    var grace: String?

    func run() async throws {
        // The database holds job specs (headers may carry tokens): owner only. The socket
        // gets its mode explicitly after binding.
        umask(0o077)
        let flags = [
            "socket.path": socket, "database.path": database, "workers": workers,
            "database.synchronous": synchronous, "log.level": logLevel, "grace": grace,
        ].compactMapValues { $0 }
        let configPath = config
        let uid = getuid()
        let load: @Sendable () throws -> LoadedConfiguration = {
            try DaemonConfiguration.load(
                ConfigurationInputs(
                    flags: flags, configPath: configPath, environment: ProcessInfo.processInfo.environment, uid: uid))
        }
        let loaded: LoadedConfiguration
        do {
            loaded = try await NIOThreadPool.singleton.runIfActive { try load() }
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("jobd: \(error)\n".utf8))
            throw ExitCode(78)
        }
        if checkConfig {
            print(loaded.effectiveText, terminator: "")
            return
        }
        let configuration = loaded.configuration
        let logLevel = LogLevelSwitch(configuration.logLevel)
        let format = configuration.logFormat
        LoggingSystem.bootstrap { label in DaemonLogHandler(label: label, format: format, level: logLevel) }
        let logger = Logger(label: "jobd")
        if let file = loaded.file {
            logger.debug("configuration read", metadata: ["config.file": "\(file)"])
        }
        // Thousands of connections need more than the usual soft limit of 1024 descriptors.
        let files = OpenFileLimit.raiseSoftToHard()
        logger.info(
            "open file limit",
            metadata: ["rlimit_nofile": "\(files.after.soft)", "raised_from": "\(files.before.soft)"])
        if let error = files.errno {
            logger.warning(
                "cannot raise the open file limit", metadata: ["rlimit_nofile": "\(files.after)", "errno": "\(error)"])
        }
        do {
            try await Self.serve(loaded, load: load, logLevel: logLevel, logger: logger)
        } catch let error as StartFailure {
            logger.critical("cannot start: \(error.message)")
            throw ExitCode(error.exitCode)
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("jobd: \(error)\n".utf8))
            throw ExitCode(78)
        }
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

    /// A start-up failure with the message to log and the exit code.
    struct StartFailure: Error {
        var message: String
        /// 1, or `damagedDatabase` (65) when a restart cannot help.
        var exitCode: Int32 = 1

        /// EX_DATAERR: the database file is damaged or not a database. The unit's
        /// `RestartPreventExitStatus=` lists it: restarting cannot fix the file, and a
        /// restart loop would bury the message in the journal.
        static let damagedDatabase: Int32 = 65

        /// A failure to open, lock or recover the database at `path`: the store's message
        /// (it names the file and SQLite's reason) plus what to do about it.
        static func storage(_ error: any Error, path: String) -> StartFailure {
            guard let error = error as? StoreError else { return StartFailure(message: "\(error)") }
            switch error.code {
            case .corrupt:
                return StartFailure(
                    message: "\(error). The file is damaged or is not a SQLite database; jobd leaves it as it is "
                        + "and does not start: move it aside (with its -wal and -shm files), restore a backup or "
                        + "recover what it holds with `sqlite3 \(path) .recover`, then start jobd again",
                    exitCode: damagedDatabase)
            case .readOnly:
                return StartFailure(
                    message: "\(error); jobd must be able to write \(path), the -wal and -shm files beside it and "
                        + "their directory: check owner, mode and attributes (lsattr -d) and that the file system "
                        + "is mounted read-write")
            case .busy:
                return StartFailure(
                    message: "\(error); another process holds a lock on it: stop that process or wait for it")
            case .diskFull:
                return StartFailure(message: "\(error); free space on the file system that holds \(path)")
            case .ioError:
                return StartFailure(
                    message: "\(error); the system failed to read or write \(path): check the kernel log and the disk")
            default:
                return StartFailure(message: "\(error)")
            }
        }
    }

    static func serve(
        _ loaded: LoadedConfiguration, load: @escaping @Sendable () throws -> LoadedConfiguration,
        logLevel: LogLevelSwitch, logger: Logger
    ) async throws {
        let configuration = loaded.configuration
        // Before anything makes a metric: metrics made earlier stay bound to the no-op backend.
        let registry = Self.bootstrapMetrics()
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
        do {
            try await SocketFile.prepare(path: socketPath)
        } catch {
            throw StartFailure(message: "\(error)")
        }
        let (lock, store) = try await NIOThreadPool.singleton.runIfActive {
            () throws -> (DatabaseLock, SQLiteJobStore) in
            do {
                let lock = try DatabaseLock(databasePath: databasePath)
                let store = try SQLiteJobStore(path: databasePath, options: configuration.storeOptions)
                return (lock, store)
            } catch {
                throw StartFailure.storage(error, path: databasePath)
            }
        }
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

        let hook = try WriterHangHook.armed(by: environment, store: store, notifier: notifier, logger: logger)

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
                notifier: $0, dispatcher: dispatcher, store: store,
                watchdogInterval: SystemdNotifier.watchdogInterval(environment: environment), logger: logger)
        }
        let serverOptions = configuration.serverOptions
        let router = APIServer.makeRouter(
            store: store, dispatcher: dispatcher, events: events, options: serverOptions, metrics: registry)
        let application = APIServer.makeApplication(router: router, options: serverOptions, logger: logger) {
            logger.info(
                "jobd ready",
                metadata: [
                    "socket.path": "\(socketPath)", "database.path": "\(databasePath)",
                    "workers": "\(configuration.workers)", "version": "\(jobdVersion)",
                    "config.file": "\(loaded.file ?? "none")",
                ])
            await notify?.markReady()
        }
        let reload = ReloadService(
            signals: hangups, initial: loaded, load: load, dispatcher: dispatcher, logLevel: logLevel,
            notifier: notifier, logger: logger)

        // ServiceGroup tells services to stop in reverse order, each after the previous
        // one returned: STOPPING=1 goes out first; the dispatcher drains while the server
        // still answers (503 for submits, waits and status as usual); the server stops;
        // the notifier, first in the list, keeps the watchdog fed until the end.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let notify { services.append(.init(service: notify)) }
        services.append(.init(service: application))
        services.append(.init(service: dispatcher))
        services.append(.init(service: reload))
        if let hook { services.append(.init(service: hook)) }
        if let notifier { services.append(.init(service: StoppingNotifier(notifier: notifier))) }
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
            SocketFile.remove(path: socketPath)
            try? await httpClient.shutdown()
            throw ExitCode.failure
        }
        SocketFile.remove(path: socketPath)
        try await httpClient.shutdown()
        // Closing checkpoints the WAL: blocking I/O, so off the cooperative pool.
        try await NIOThreadPool.singleton.runIfActive {
            try store.close()
            withExtendedLifetime(lock) {}
        }
        withExtendedLifetime(hangups) {}
        logger.info("jobd stopped")
    }
}
