import ArgumentParser
import JobdDaemon
import JobdModel
import JobdStore
import JobdStorePostgres
import JobdStoreSQLite
import Logging

/// The `jobd` command line: its flags and help. `Daemon` (JobdDaemon) does the rest.
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

    @Option(
        help:
            "A PostgreSQL database shared by many nodes, postgres://USER@HOST:PORT/DB (database.url, $JOBD_DATABASE_URL)."
    )
    var databaseURL: String?

    @Option(help: "This node's name in a PostgreSQL cluster (node.name, $JOBD_NODE_NAME, default the host name).")
    var nodeName: String?

    func run() async throws {
        let arguments = DaemonArguments(
            configPath: config, checkConfiguration: checkConfig, socket: socket, database: database, workers: workers,
            synchronous: synchronous, logLevel: logLevel, grace: grace, databaseURL: databaseURL,
            nodeName: nodeName)
        let status = try await Daemon.run(arguments) { settings, logger -> any StoreEngine in
            if settings.cluster == nil { return SQLiteEngine() }
            return PostgresEngine(logger: logger)
        }
        if status != .success {
            throw ExitCode(status.rawValue)
        }
    }
}
