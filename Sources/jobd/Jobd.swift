import ArgumentParser
import AsyncHTTPClient
import Foundation
import JobdModel
import JobdRuntime
import JobdServer
import JobdStore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import UnixSignals

/// The `jobd` daemon: wiring only. Everything worth testing lives in the libraries.
@main
struct Jobd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobd",
        abstract: "The jobd job daemon: durable fetch and delay jobs over a Unix socket.",
        discussion: """
            With no options it serves on $XDG_RUNTIME_DIR/jobd/jobd.sock with its database in \
            $XDG_STATE_HOME/jobd/jobd.sqlite (root: /run/jobd/jobd.sock and /var/lib/jobd/jobd.sqlite). \
            Each option can also be set with its JOBD_* environment variable. SIGTERM or SIGINT \
            stops it gracefully: no new jobs, running jobs get the grace period, the rest are re-queued.
            Exit codes: 0 stopped cleanly, 1 could not start or failed, 78 a bad setting.
            """,
        version: jobdVersion)

    @Option(help: "The Unix socket to serve on ($JOBD_SOCKET).")
    var socket: String?

    @Option(help: "The SQLite database file ($JOBD_DATABASE).")
    var database: String?

    @Option(help: "The most jobs running at once ($JOBD_WORKERS, default 16).")
    var workers: Int?

    @Option(help: "SQLite durability: full (fsync each commit) or normal ($JOBD_SYNCHRONOUS, default full).")
    var synchronous: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical ($JOBD_LOG_LEVEL, default info).")
    var logLevel: String?

    @Option(help: "Seconds running jobs may go on after SIGTERM before they are re-queued ($JOBD_GRACE, default 10).")
    var grace: Double?

    func run() async throws {
        // The database holds job specs (headers may carry tokens): owner only. The socket
        // gets its mode explicitly after binding.
        umask(0o077)
        let settings: DaemonSettings
        do {
            settings = try DaemonSettings.resolve(
                socket: socket, database: database, workers: workers, synchronous: synchronous, logLevel: logLevel,
                grace: grace, environment: ProcessInfo.processInfo.environment, uid: getuid())
        } catch {
            FileHandle.standardError.write(Data("jobd: \(error)\n".utf8))
            throw ExitCode(78)
        }
        let level = settings.logLevel
        LoggingSystem.bootstrap { label in LogfmtLogHandler(label: label, level: level) }
        let logger = Logger(label: "jobd")
        do {
            try await Self.serve(settings, logger: logger)
        } catch let error as StartFailure {
            logger.critical("cannot start: \(error.message)")
            throw ExitCode.failure
        }
    }

    /// A start-up failure with the message to log.
    struct StartFailure: Error {
        var message: String
    }

    static func serve(_ settings: DaemonSettings, logger: Logger) async throws {
        // Order matters: a live daemon on the socket must be detected before this one
        // recovers "crashed" attempts that are in fact that daemon's running jobs.
        do {
            try await SocketFile.prepare(path: settings.socketPath)
        } catch {
            throw StartFailure(message: "\(error)")
        }
        let (lock, store) = try await NIOThreadPool.singleton.runIfActive { () throws -> (DatabaseLock, JobStore) in
            do {
                let lock = try DatabaseLock(databasePath: settings.databasePath)
                let store = try JobStore(
                    path: settings.databasePath, options: StoreOptions(synchronous: settings.synchronous))
                return (lock, store)
            } catch {
                throw StartFailure(message: "\(error)")
            }
        }
        let recovery = try await store.recoverInterrupted()
        if recovery.interruptedAttempts > 0 {
            logger.notice(
                "recovered attempts interrupted by a crash",
                metadata: [
                    "attempts": "\(recovery.interruptedAttempts)", "requeued": "\(recovery.requeuedJobs)",
                    "failed": "\(recovery.failedJobs)",
                ])
        }

        var clientConfiguration = HTTPClient.Configuration(
            redirectConfiguration: .follow(max: 10, allowCycles: false),
            timeout: .init(connect: .seconds(10)))
        // Fail a refused connection now, as connect_failed, instead of retrying it until
        // the connect timeout; jobd's own retries (max_attempts) decide about trying again.
        clientConfiguration.connectionPool.retryConnectionEstablishment = false
        clientConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(8, settings.workers)
        let httpClient = HTTPClient(
            eventLoopGroup: .singletonMultiThreadedEventLoopGroup, configuration: clientConfiguration)

        let events = EventBroadcaster()
        let dispatcher = Dispatcher(
            store: store,
            executors: [.fetch: FetchExecutor(client: httpClient), .delay: DelayExecutor()],
            options: RuntimeOptions(workers: settings.workers, shutdownGrace: settings.grace),
            events: events, logger: logger)
        let serverOptions = ServerOptions(socketPath: settings.socketPath)
        let router = APIServer.makeRouter(store: store, dispatcher: dispatcher, events: events, options: serverOptions)
        let application = APIServer.makeApplication(router: router, options: serverOptions, logger: logger) {
            logger.info(
                "jobd ready",
                metadata: [
                    "socket.path": "\(settings.socketPath)", "database.path": "\(settings.databasePath)",
                    "workers": "\(settings.workers)", "version": "\(jobdVersion)",
                ])
        }
        // ServiceGroup stops services in reverse order: the dispatcher drains first while
        // the server still answers (503 for submits, waits and status as usual); the
        // server stops last.
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: application),
                    .init(service: dispatcher),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                cancellationSignals: [],
                logger: logger))
        do {
            try await group.run()
        } catch {
            logger.error("stopped with an error", metadata: ["error": "\(error)"])
            SocketFile.remove(path: settings.socketPath)
            try? await httpClient.shutdown()
            throw ExitCode.failure
        }
        SocketFile.remove(path: settings.socketPath)
        try await httpClient.shutdown()
        // Closing checkpoints the WAL: blocking I/O, so off the cooperative pool.
        try await NIOThreadPool.singleton.runIfActive {
            try store.close()
            withExtendedLifetime(lock) {}
        }
        logger.info("jobd stopped")
    }
}
