/// What the `jobd` command line hands the daemon: the configuration file, the check-only
/// switch, and the settings that have a flag.
///
/// Each setting is the flag's text as typed. `Daemon.run(_:)` checks it like a value
/// from any other source and, when it refuses one, names the flag (`(in --workers)`).
/// A flag wins over the `JOBD_*` variable, the file and the default of its key.
public struct DaemonArguments: Sendable, Equatable {
    /// `--config`: the YAML file. nil: `$JOBD_CONFIG`, else `/etc/jobd/jobd.yaml` if it exists.
    public var configPath: String?
    /// `--check-config`: check the configuration, print the effective settings and stop.
    public var checkConfiguration: Bool
    /// `--socket`: `socket.path`.
    public var socket: String?
    /// `--database`: `database.path`.
    public var database: String?
    /// `--workers`: `workers`.
    public var workers: String?
    /// `--synchronous`: `database.synchronous`.
    public var synchronous: String?
    /// `--log-level`: `log.level`.
    public var logLevel: String?
    /// `--grace`: `grace`.
    public var grace: String?
    /// `--database-url`: `database.url`.
    public var databaseURL: String?
    /// `--node-name`: `node.name`.
    public var nodeName: String?

    /// Makes the arguments; a setting left nil is not given on the command line.
    ///
    /// - Parameters:
    ///   - configPath: `--config`.
    ///   - checkConfiguration: `--check-config`.
    ///   - socket: `--socket`.
    ///   - database: `--database`.
    ///   - workers: `--workers`.
    ///   - synchronous: `--synchronous`.
    ///   - logLevel: `--log-level`.
    ///   - grace: `--grace`.
    ///   - databaseURL: `--database-url`.
    ///   - nodeName: `--node-name`.
    public init(
        configPath: String? = nil, checkConfiguration: Bool = false, socket: String? = nil,
        database: String? = nil, workers: String? = nil, synchronous: String? = nil, logLevel: String? = nil,
        grace: String? = nil, databaseURL: String? = nil, nodeName: String? = nil
    ) {
        self.databaseURL = databaseURL
        self.nodeName = nodeName
        self.configPath = configPath
        self.checkConfiguration = checkConfiguration
        self.socket = socket
        self.database = database
        self.workers = workers
        self.synchronous = synchronous
        self.logLevel = logLevel
        self.grace = grace
    }

    /// The settings given, by configuration key (`workers` → `"8"`).
    ///
    /// Every key here has its flag in `ConfigurationKey.all`, which names it in errors.
    var flags: [String: String] {
        [
            "socket.path": socket, "database.path": database, "workers": workers,
            "database.synchronous": synchronous, "log.level": logLevel, "grace": grace,
            "database.url": databaseURL, "node.name": nodeName,
        ].compactMapValues { $0 }
    }
}
