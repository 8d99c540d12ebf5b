import AsyncHTTPClient
import Foundation
import JobdModel
import JobdRuntime
import JobdServer
import JobdStore
import Logging

/// Every setting of the daemon, after the file, the environment and the flags are merged.
///
/// Sources, highest first: command-line flags, `JOBD_*` environment variables, the YAML
/// file (`--config`, else `$JOBD_CONFIG`, else `/etc/jobd/jobd.yaml` when it exists),
/// then the built-in defaults, which are those of the option structs of the libraries
/// (`RuntimeOptions`, `FetchOptions`, `ServerOptions`, `StoreSettings`), so the two
/// cannot drift apart. `ConfigurationKey.all` lists the keys; `load(_:)` builds one.
///
/// The daemon does not read the settings from here directly: it maps them into those
/// option structs (`runtimeOptions`, `fetchOptions`, …).
struct DaemonConfiguration: Sendable, Equatable {
    /// `schedules:` of the file (`ConfiguredSchedules`), zones and `missed` resolved; kept
    /// in the store, where a reload makes them exactly these.
    var schedules: [ScheduleSpec] = []
    /// `socket.path`; nil until resolved: then `$RUNTIME_DIRECTORY/jobd.sock` under
    /// systemd, else the per-user default of `DefaultPaths`.
    var socketPath: String?
    /// `socket.mode`: the socket file's permission bits.
    var socketMode: UInt16
    /// `socket.group`: the group given to the socket file; nil keeps the daemon's group.
    var socketGroup: String?
    /// `server.max_connections`: connections open at once (root and the daemon's uid get a
    /// reserve past it).
    var maxConnections: Int
    /// `server.max_connections_per_uid`: connections one uid may open; nil: no per-uid cap.
    var maxConnectionsPerUID: Int?
    /// `server.idle_timeout`: a connection sending nothing this long, no request being
    /// answered, is closed; nil: never.
    var idleTimeout: Duration?
    /// `server.request_head_timeout`: a request head must be complete this long after the
    /// connection opened or the next request began; nil: no deadline.
    var requestHeadTimeout: Duration?
    /// `database.path`; nil until resolved like `socketPath`, from `$STATE_DIRECTORY`.
    var databasePath: String?
    /// `database.synchronous`.
    var synchronous: StoreDurability
    /// `database.url`: the PostgreSQL database shared by the cluster's nodes; nil: SQLite.
    var databaseURL: DatabaseURL? = nil
    /// `database.password_file`: the password's file (first line), when the URL has none.
    var databasePasswordFile: String? = nil
    /// `database.pool_size`: query connections per node (PostgreSQL).
    var databasePoolSize: Int = 10
    /// `node.name`: this node's name in the cluster; nil: the host name.
    var nodeName: String? = nil
    /// `node.lease`: how long a node's lease lasts (PostgreSQL).
    var nodeLease: Duration = .seconds(15)
    /// `workers`: the most jobs running at once.
    var workers: Int
    /// `limits.fetch`, `limits.delay`: per-kind limits under `workers`.
    var kindLimits: [JobKind: Int]
    /// `limits.per_host`: the most fetches running at once to one host.
    var hostLimit: Int?
    /// `limits.per_host_rate` (`perHost`) and `limits.host_rates` (`entries`): token-bucket
    /// rates of the fetch hosts.
    var hostRates = HostRateTable()
    /// `max_queued`: the most queued jobs; nil means no cap.
    var maxQueued: Int?
    /// `scheduling.fair_share`: queue order, or the submitting uids in turn.
    var fairShare: FairShare = .off
    /// `dashboard.listen`: a loopback address where jobd serves the dashboard over TCP
    /// (dashboard tokens only); nil: the socket only.
    var dashboardListen: ListenAddress? = nil
    /// `fetch.timeout`: the timeout of a fetch attempt whose spec has none.
    var fetchTimeout: Duration
    /// `fetch.max_body_bytes`: the body cap.
    var maxBodyBytes: Int
    /// `fetch.max_redirects`: redirects followed; 0 follows none.
    var maxRedirects: Int
    /// `fetch.user_agent`.
    var userAgent: String
    /// `fetch.denied_networks`: CIDRs a fetch may not connect to.
    var deniedNetworks: [String]
    /// `retry.max_attempts`: `max_attempts` of a job whose spec sets none.
    var maxAttempts: Int
    /// `retry.base`: the backoff before the first retry.
    var retryBase: Duration
    /// `retry.cap`: the longest backoff.
    var retryCap: Duration
    /// `retention`: finished jobs older than this are pruned; nil keeps them.
    var retention: Duration?
    /// `grace`: how long running jobs may go on after SIGTERM.
    var grace: Duration
    /// `access.allowed_uids`: empty allows every uid.
    var allowedUIDs: [UInt32]
    /// `access.allowed_gids`: empty allows every gid.
    var allowedGIDs: [UInt32]
    /// `access.admin_group`: members act on every user's jobs.
    var adminGroup: String?
    /// `log.level`.
    var logLevel: Logger.Level
    /// `log.format`.
    var logFormat: LogFormat

    /// The built-in defaults: those of the libraries' option structs.
    static let defaults: DaemonConfiguration = {
        let runtime = RuntimeOptions()
        let fetch = FetchOptions()
        let server = ServerOptions(socketPath: "")
        let store = StoreSettings(databasePath: "")
        return DaemonConfiguration(
            socketPath: nil, socketMode: server.socketMode, socketGroup: server.socketGroup,
            maxConnections: server.maxConnections, maxConnectionsPerUID: server.maxConnectionsPerUID,
            idleTimeout: server.idleTimeout, requestHeadTimeout: server.requestHeadTimeout, databasePath: nil,
            synchronous: store.durability, workers: runtime.workers, kindLimits: runtime.kindLimits,
            hostLimit: runtime.hostLimit, maxQueued: runtime.maxQueued, fairShare: runtime.fairShare,
            fetchTimeout: .milliseconds(Int64(runtime.defaultFetchTimeout * 1000)), maxBodyBytes: fetch.maxBodyBytes,
            maxRedirects: 10, userAgent: fetch.userAgent, deniedNetworks: fetch.deniedNetworks,
            maxAttempts: runtime.defaultMaxAttempts, retryBase: runtime.retryBase, retryCap: runtime.retryCap,
            retention: runtime.retention, grace: runtime.shutdownGrace, allowedUIDs: server.allowedUIDs,
            allowedGIDs: server.allowedGIDs, adminGroup: server.adminGroup, logLevel: .info, logFormat: .logfmt)
    }()

    /// The resolved socket path.
    ///
    /// - Important: Only valid after `load(_:)`, which resolves the default.
    var resolvedSocketPath: String {
        guard let socketPath else { fatalError("socket.path is resolved by DaemonConfiguration.load") }
        return socketPath
    }

    /// The resolved database path.
    ///
    /// - Important: Only valid after `load(_:)`, which resolves the default.
    var resolvedDatabasePath: String {
        guard let databasePath else { fatalError("database.path is resolved by DaemonConfiguration.load") }
        return databasePath
    }

    /// The dispatcher's options.
    var runtimeOptions: RuntimeOptions {
        RuntimeOptions(
            workers: workers, defaultFetchTimeout: fetchTimeout.secondsValue, defaultMaxAttempts: maxAttempts,
            shutdownGrace: grace, retryBase: retryBase, retryCap: retryCap, kindLimits: kindLimits,
            hostLimit: hostLimit, hostRates: hostRates, maxQueued: maxQueued, retention: retention,
            fairShare: fairShare)
    }

    /// The fetch executor's options.
    var fetchOptions: FetchOptions {
        FetchOptions(
            maxBodyBytes: maxBodyBytes, userAgent: userAgent, deniedNetworks: deniedNetworks,
            maxRedirects: maxRedirects)
    }

    /// The API server's options.
    var serverOptions: ServerOptions {
        ServerOptions(
            socketPath: resolvedSocketPath, socketMode: socketMode, socketGroup: socketGroup,
            allowedUIDs: allowedUIDs, allowedGIDs: allowedGIDs, adminGroup: adminGroup,
            maxConnections: maxConnections, maxConnectionsPerUID: maxConnectionsPerUID, idleTimeout: idleTimeout,
            requestHeadTimeout: requestHeadTimeout)
    }

    /// The store's settings, for the engine (after the paths are resolved).
    ///
    /// - Throws: `InvalidValue` when `database.password_file` cannot be read.
    func storeSettings() throws -> StoreSettings {
        var cluster: ClusterSettings?
        if let databaseURL {
            var password: String?
            if databaseURL.password == nil, let file = databasePasswordFile {
                guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                    throw InvalidValue("cannot read the password file \(file)")
                }
                password = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            }
            cluster = ClusterSettings(
                url: databaseURL, password: password, poolSize: databasePoolSize, nodeName: resolvedNodeName,
                lease: nodeLease, version: jobdVersion, workers: workers)
        }
        return StoreSettings(
            databasePath: resolvedDatabasePath, durability: synchronous, cluster: cluster, fairShare: fairShare)
    }

    /// `node.name`, or the host name.
    var resolvedNodeName: String {
        nodeName ?? ProcessInfo.processInfo.hostName
    }
}
