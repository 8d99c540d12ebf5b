import Foundation
import JobdServer
import JobdStore
import Logging
import NIOPosix

/// The jobd daemon: it loads the configuration, sets up logging and runs the services
/// until SIGTERM or SIGINT.
///
/// The `jobd` executable parses its flags into `DaemonArguments` and calls `run(_:engine:)` with the engine it picked;
/// everything else lives in this library, so its parts can be tested without a process.
public enum Daemon {
    /// Runs the daemon, or with `--check-config` only checks its configuration, and
    /// answers with the status the process should exit with.
    ///
    /// The configuration comes from the arguments, the `JOBD_*` variables and the YAML
    /// file (see `DaemonArguments`). A bad one prints
    /// `jobd: invalid configuration: <key>: <reason> (in <source>)` to stderr and answers
    /// `.badConfiguration`. `--check-config` prints the effective settings as YAML to
    /// stdout instead of starting. Otherwise it logs to stderr, opens the socket and the
    /// store, tells systemd it is ready, applies SIGHUP reloads, and drains on SIGTERM.
    ///
    /// - Important: Call it at most once per process: it sets the umask, bootstraps
    ///   swift-log and swift-metrics (one bootstrap each per process) and traps SIGHUP.
    /// - Parameters:
    ///   - arguments: The command line.
    ///   - engine: Makes the store's engine for the loaded settings (PostgreSQL when they
    ///     name a cluster, else SQLite): the executable knows the engines, this library none.
    /// - Returns: `.success` after a clean stop or a clean check; `.badConfiguration`;
    ///   `.failure` or `.damagedDatabase` when it cannot start; `.failure` when a
    ///   service stopped with an error.
    /// - Throws: An error of the last clean-up after a clean stop (shutting the HTTP
    ///   client down, closing the store), or when the NIO thread pool is not running.
    public static func run(
        _ arguments: DaemonArguments, engine: @Sendable (StoreSettings, Logger) -> any StoreEngine
    ) async throws -> DaemonExitStatus {
        // The database holds job specs (headers may carry tokens): owner only. The socket
        // gets its mode explicitly after binding.
        umask(0o077)
        // Socket activation: read and unset LISTEN_* first, before other threads read the
        // environment (unsetenv is not thread-safe); which socket to serve on is decided
        // once the configuration names the socket path.
        let listenEnvironment = ProcessInfo.processInfo.environment.filter {
            SocketActivation.variables.contains($0.key)
        }
        SocketActivation.unsetEnvironment()
        let flags = arguments.flags
        let configPath = arguments.configPath
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
            FileHandle.standardError.write(Data((error.errorLine + "\n").utf8))
            return error.exitStatus
        }
        let activation = Result {
            try SocketActivation.take(
                environment: listenEnvironment, pid: getpid(), preferredPath: loaded.configuration.resolvedSocketPath)
        }
        if arguments.checkConfiguration {
            for warning in loaded.warnings {
                FileHandle.standardError.write(Data("jobd: warning: \(warning)\n".utf8))
            }
            print(loaded.effectiveText, terminator: "")
            switch activation {
            case .success(let socket?):
                print("# socket: from systemd (socket activation: \(socket.summary)); server.socket is not bound")
            case .success(nil):
                break
            case .failure(let error):
                print("# socket: \(error)")
            }
            return .success
        }
        let configuration = loaded.configuration
        let logLevel = LogLevelSwitch(configuration.logLevel)
        let format = configuration.logFormat
        // Under systemd stderr is the journal: each line then carries its priority.
        let isJournal = JournalStream.isStandardError(environment: ProcessInfo.processInfo.environment)
        LoggingSystem.bootstrap { label in
            DaemonLogHandler(label: label, format: format, level: logLevel, isJournal: isJournal)
        }
        let logger = Logger(label: "jobd")
        for warning in loaded.warnings {
            logger.warning("\(warning)")
        }
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
            let settings: StoreSettings
            do {
                settings = try configuration.storeSettings()
            } catch let error as InvalidValue {
                FileHandle.standardError.write(Data("jobd: database.password_file: \(error.reason)\n".utf8))
                return .badConfiguration
            }
            let socket: SocketActivation?
            do {
                socket = try activation.get()
            } catch {
                throw StartFailure(message: "socket activation: \(error)")
            }
            return try await serve(
                loaded, settings: settings, engine: engine(settings, logger), activation: socket, load: load,
                logLevel: logLevel, logger: logger)
        } catch let error as StartFailure {
            logger.critical("cannot start: \(error.message)")
            return error.exitStatus
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data((error.errorLine + "\n").utf8))
            return error.exitStatus
        }
    }
}
