import JobdModel
import JobdRuntime
import JobdStore
import Logging

/// One configuration key: its name, where else it can be set, how it is parsed and shown.
///
/// The table `all` is the single list of keys: loading, unknown-key detection, the
/// `JOBD_*` variable names, `--check-config` and the SIGHUP diff all derive from it.
struct ConfigurationKey: Sendable {
    /// The dotted name, as nested in the YAML file (`fetch.max_body_bytes`).
    let name: String
    /// True when the value is a list (a YAML sequence, or comma-separated in a variable).
    let isList: Bool
    /// True when the value is a map whose own keys are data, not jobd keys (a YAML
    /// mapping, or `key=value,…` in a variable): `limits.host_rates`.
    let isMap: Bool
    /// True when a SIGHUP applies a change without a restart.
    let isLive: Bool
    /// The command-line flag that sets it, if any.
    let flag: String?
    /// Older variable names that still work, below the systematic one.
    let environmentAliases: [String]
    /// Parses `raw` into `configuration`.
    let apply: @Sendable (inout DaemonConfiguration, RawSetting) throws -> Void
    /// The value in `configuration`, as YAML.
    let render: @Sendable (DaemonConfiguration) -> String

    /// The key's name split at the dots.
    var components: [String] { name.split(separator: ".").map(String.init) }

    /// The systematic variable: `JOBD_` and the name upper-cased with dots as underscores
    /// (`fetch.max_body_bytes` is `JOBD_FETCH_MAX_BODY_BYTES`). The same rule as
    /// swift-configuration's `EnvironmentVariablesProvider` applies to `jobd.<name>`.
    var environmentName: String {
        "JOBD_" + name.uppercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
    }

    /// Looks a key up by its dotted name.
    static func named(_ name: String) -> ConfigurationKey? {
        all.first { $0.name == name }
    }

    /// The sections (first components of nested keys): `socket`, `database`, …
    static let sections: Set<String> = Set(all.compactMap { $0.components.count > 1 ? $0.components[0] : nil })

    /// Variables with the `JOBD_` prefix that are not keys but are used by jobd or its tools.
    static let otherVariables: Set<String> = [
        // The configuration file itself.
        "JOBD_CONFIG",
        // The end-to-end tests' hook that hangs the store writer (see WriterHangHook).
        "JOBD_TEST_HANG_WRITER",
        // Where the end-to-end tests find the built binaries; set in the tests' environment.
        "JOBD_BIN_DIR",
    ]

    /// Every key, in the order of `Config/jobd.yaml`.
    static let all: [ConfigurationKey] = [
        ConfigurationKey(
            "socket.path", flag: "--socket", aliases: ["JOBD_SOCKET"],
            apply: { configuration, raw in
                configuration.socketPath = try ConfigurationParser.optionalText(raw).map {
                    try ConfigurationParser.socketPath($0)
                }
            },
            render: { ConfigurationParser.renderOptional($0.socketPath) }),
        ConfigurationKey(
            "socket.mode",
            apply: { configuration, raw in configuration.socketMode = try ConfigurationParser.mode(raw) },
            render: { ConfigurationParser.quote(ConfigurationParser.octal($0.socketMode)) }),
        ConfigurationKey(
            "socket.group",
            apply: { configuration, raw in
                configuration.socketGroup = try ConfigurationParser.optionalText(raw).map {
                    try ConfigurationParser.existingGroup($0)
                }
            },
            render: { ConfigurationParser.renderOptional($0.socketGroup) }),
        ConfigurationKey(
            "server.max_connections",
            apply: { configuration, raw in
                configuration.maxConnections = try ConfigurationParser.integer(raw, in: 1...1_000_000)
            },
            render: { "\($0.maxConnections)" }),
        ConfigurationKey(
            "server.max_connections_per_uid",
            apply: { configuration, raw in
                configuration.maxConnectionsPerUID = try ConfigurationParser.optionalInteger(raw, in: 1...1_000_000)
            },
            render: { ConfigurationParser.renderOptional($0.maxConnectionsPerUID) }),
        ConfigurationKey(
            "server.idle_timeout",
            apply: { configuration, raw in
                configuration.idleTimeout = try ConfigurationParser.optionalDuration(
                    raw, in: .milliseconds(100) ... .seconds(86_400))
            },
            render: { $0.idleTimeout.map(ConfigurationParser.renderSeconds) ?? "null" }),
        ConfigurationKey(
            "server.request_head_timeout",
            apply: { configuration, raw in
                configuration.requestHeadTimeout = try ConfigurationParser.optionalDuration(
                    raw, in: .milliseconds(100) ... .seconds(3600))
            },
            render: { $0.requestHeadTimeout.map(ConfigurationParser.renderSeconds) ?? "null" }),
        ConfigurationKey(
            "database.path", flag: "--database", aliases: ["JOBD_DATABASE"],
            apply: { configuration, raw in configuration.databasePath = try ConfigurationParser.optionalText(raw) },
            render: { ConfigurationParser.renderOptional($0.databasePath) }),
        ConfigurationKey(
            "database.synchronous", flag: "--synchronous", aliases: ["JOBD_SYNCHRONOUS"],
            apply: { configuration, raw in
                let text = try ConfigurationParser.choice(raw, StoreDurability.allCases.map(\.rawValue))
                configuration.synchronous = StoreDurability(rawValue: text)!
            },
            render: { $0.synchronous.rawValue }),
        ConfigurationKey(
            "database.url", flag: "--database-url",
            apply: { configuration, raw in
                configuration.databaseURL = try ConfigurationParser.optionalText(raw).map {
                    do {
                        return try DatabaseURL(parsing: $0)
                    } catch let error as DatabaseURL.ParseError {
                        throw InvalidValue("the URL \(error)")
                    }
                }
            },
            render: { ConfigurationParser.renderOptional($0.databaseURL?.description) }),
        ConfigurationKey(
            "database.password_file",
            apply: { configuration, raw in
                configuration.databasePasswordFile = try ConfigurationParser.optionalText(raw)
            },
            render: { ConfigurationParser.renderOptional($0.databasePasswordFile) }),
        ConfigurationKey(
            "database.pool_size",
            apply: { configuration, raw in
                configuration.databasePoolSize = try ConfigurationParser.integer(raw, in: 1...1000)
            },
            render: { "\($0.databasePoolSize)" }),
        ConfigurationKey(
            "node.name", flag: "--node-name",
            apply: { configuration, raw in
                configuration.nodeName = try ConfigurationParser.optionalText(raw)
            },
            render: { ConfigurationParser.renderOptional($0.nodeName) }),
        ConfigurationKey(
            "node.lease",
            apply: { configuration, raw in
                configuration.nodeLease = try ConfigurationParser.duration(raw, in: .seconds(1) ... .seconds(3600))
            },
            render: { ConfigurationParser.renderSeconds($0.nodeLease) }),
        ConfigurationKey(
            "workers", flag: "--workers", isLive: true,
            apply: { configuration, raw in
                configuration.workers = try ConfigurationParser.integer(raw, in: 1...100_000)
            },
            render: { "\($0.workers)" }),
        ConfigurationKey(
            "limits.fetch",
            apply: { configuration, raw in
                configuration.kindLimits[.fetch] = try ConfigurationParser.optionalInteger(raw, in: 1...100_000)
            },
            render: { ConfigurationParser.renderOptional($0.kindLimits[.fetch]) }),
        ConfigurationKey(
            "limits.delay",
            apply: { configuration, raw in
                configuration.kindLimits[.delay] = try ConfigurationParser.optionalInteger(raw, in: 1...100_000)
            },
            render: { ConfigurationParser.renderOptional($0.kindLimits[.delay]) }),
        ConfigurationKey(
            "limits.per_host",
            apply: { configuration, raw in
                configuration.hostLimit = try ConfigurationParser.optionalInteger(raw, in: 1...100_000)
            },
            render: { ConfigurationParser.renderOptional($0.hostLimit) }),
        ConfigurationKey(
            "limits.per_host_rate", isLive: true,
            apply: { configuration, raw in
                configuration.hostRates.perHost = try ConfigurationParser.optionalRate(raw)
            },
            render: { ConfigurationParser.renderRate($0.hostRates.perHost) }),
        ConfigurationKey(
            "limits.host_rates", isMap: true, isLive: true,
            apply: { configuration, raw in
                configuration.hostRates.entries = try ConfigurationParser.hostRates(raw)
            },
            render: { ConfigurationParser.renderHostRates($0.hostRates.entries) }),
        ConfigurationKey(
            "max_queued",
            apply: { configuration, raw in
                configuration.maxQueued = try ConfigurationParser.optionalInteger(raw, in: 1...1_000_000_000)
            },
            render: { ConfigurationParser.renderOptional($0.maxQueued) }),
        ConfigurationKey(
            "scheduling.fair_share",
            apply: { configuration, raw in
                let text = try ConfigurationParser.choice(raw, FairShare.allCases.map(\.rawValue))
                configuration.fairShare = FairShare(rawValue: text)!
            },
            render: { $0.fairShare.rawValue }),
        ConfigurationKey(
            "dashboard.listen",
            apply: { configuration, raw in
                configuration.dashboardListen = try ConfigurationParser.loopbackListen(raw)
            },
            render: { ConfigurationParser.renderOptional($0.dashboardListen.map(\.description)) }),
        ConfigurationKey(
            "fetch.timeout",
            apply: { configuration, raw in
                configuration.fetchTimeout = try ConfigurationParser.duration(
                    raw, in: .milliseconds(1) ... .seconds(86_400))
            },
            render: { ConfigurationParser.renderSeconds($0.fetchTimeout) }),
        ConfigurationKey(
            "fetch.max_body_bytes",
            apply: { configuration, raw in
                configuration.maxBodyBytes = try ConfigurationParser.byteCount(raw, in: 1...(1 << 30))
            },
            render: { "\($0.maxBodyBytes)" }),
        ConfigurationKey(
            "fetch.max_redirects",
            apply: { configuration, raw in
                configuration.maxRedirects = try ConfigurationParser.integer(raw, in: 0...100)
            },
            render: { "\($0.maxRedirects)" }),
        ConfigurationKey(
            "fetch.user_agent",
            apply: { configuration, raw in
                configuration.userAgent =
                    try ConfigurationParser.optionalText(raw).map { try ConfigurationParser.headerValue($0) }
                    ?? DaemonConfiguration.defaults.userAgent
            },
            render: { ConfigurationParser.quote($0.userAgent) }),
        ConfigurationKey(
            "fetch.denied_networks", isList: true,
            apply: { configuration, raw in
                configuration.deniedNetworks = try ConfigurationParser.list(raw).map {
                    try ConfigurationParser.network($0)
                }
            },
            render: { ConfigurationParser.renderList($0.deniedNetworks.map(ConfigurationParser.quote)) }),
        ConfigurationKey(
            "retry.max_attempts",
            apply: { configuration, raw in
                configuration.maxAttempts = try ConfigurationParser.integer(raw, in: 1...100)
            },
            render: { "\($0.maxAttempts)" }),
        ConfigurationKey(
            "retry.base",
            apply: { configuration, raw in
                configuration.retryBase = try ConfigurationParser.duration(raw, in: .zero ... .seconds(86_400))
            },
            render: { ConfigurationParser.renderSeconds($0.retryBase) }),
        ConfigurationKey(
            "retry.cap",
            apply: { configuration, raw in
                configuration.retryCap = try ConfigurationParser.duration(raw, in: .zero ... .seconds(7 * 86_400))
            },
            render: { ConfigurationParser.renderSeconds($0.retryCap) }),
        ConfigurationKey(
            "retention",
            apply: { configuration, raw in
                configuration.retention = try ConfigurationParser.optionalDuration(
                    raw, in: .seconds(1) ... .seconds(100 * 365 * 86_400))
            },
            render: { $0.retention.map(ConfigurationParser.renderDuration) ?? "null" }),
        ConfigurationKey(
            "grace", flag: "--grace",
            apply: { configuration, raw in
                configuration.grace = try ConfigurationParser.duration(raw, in: .zero ... .seconds(3600))
            },
            render: { ConfigurationParser.renderSeconds($0.grace) }),
        ConfigurationKey(
            "access.allowed_uids", isList: true,
            apply: { configuration, raw in
                configuration.allowedUIDs = try ConfigurationParser.list(raw).map { try ConfigurationParser.userID($0) }
            },
            render: { ConfigurationParser.renderList($0.allowedUIDs.map { "\($0)" }) }),
        ConfigurationKey(
            "access.allowed_gids", isList: true,
            apply: { configuration, raw in
                configuration.allowedGIDs = try ConfigurationParser.list(raw).map {
                    try ConfigurationParser.groupID($0)
                }
            },
            render: { ConfigurationParser.renderList($0.allowedGIDs.map { "\($0)" }) }),
        ConfigurationKey(
            "access.admin_group",
            apply: { configuration, raw in
                configuration.adminGroup = try ConfigurationParser.optionalText(raw).map {
                    try ConfigurationParser.existingGroup($0)
                }
            },
            render: { ConfigurationParser.renderOptional($0.adminGroup) }),
        ConfigurationKey(
            "log.level", flag: "--log-level", isLive: true,
            apply: { configuration, raw in
                let text = try ConfigurationParser.choice(raw, Logger.Level.allCases.map(\.rawValue))
                configuration.logLevel = Logger.Level(rawValue: text)!
            },
            render: { $0.logLevel.rawValue }),
        ConfigurationKey(
            "log.format",
            apply: { configuration, raw in
                let text = try ConfigurationParser.choice(raw, LogFormat.allCases.map(\.rawValue))
                configuration.logFormat = LogFormat(rawValue: text)!
            },
            render: { $0.logFormat.rawValue }),
    ]

    private init(
        _ name: String, isList: Bool = false, isMap: Bool = false, flag: String? = nil, isLive: Bool = false,
        aliases: [String] = [],
        apply: @escaping @Sendable (inout DaemonConfiguration, RawSetting) throws -> Void,
        render: @escaping @Sendable (DaemonConfiguration) -> String
    ) {
        self.name = name
        self.isList = isList
        self.isMap = isMap
        self.flag = flag
        self.isLive = isLive
        self.environmentAliases = aliases
        self.apply = apply
        self.render = render
    }
}
