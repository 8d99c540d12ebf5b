import JobdStore
import Logging
import PostgresNIO

/// Makes the `PostgresClient` (the connection pool) a `ClusterSettings` describes.
enum PostgresClientFactory {
    /// The pool: `poolSize` connections for queries plus one for the change listener,
    /// which holds its connection for as long as it runs.
    static func makeClient(_ settings: ClusterSettings, durability: StoreDurability, logger: Logger) -> PostgresClient {
        let url = settings.url
        let password = url.password ?? settings.password
        var configuration: PostgresClient.Configuration
        if let socketPath = url.socketPath {
            configuration = PostgresClient.Configuration(
                unixSocketPath: socketPath, username: url.user, password: password, database: url.database)
        } else {
            let tls: PostgresClient.Configuration.TLS =
                switch url.tls {
                case .disable: .disable
                case .prefer: .prefer(.makeClientConfiguration())
                case .require: .require(.makeClientConfiguration())
                }
            configuration = PostgresClient.Configuration(
                host: url.host ?? "localhost", port: url.port, username: url.user, password: password,
                database: url.database, tls: tls)
        }
        configuration.options.maximumConnections = max(1, settings.poolSize) + 1
        configuration.options.minimumConnections = 0
        configuration.options.connectTimeout = .seconds(5)
        var parameters = [("application_name", "jobd \(settings.nodeName)")]
        // `normal` durability: a commit is acknowledged before its WAL reaches the disk,
        // as SQLite's synchronous=NORMAL; a crash of the server may lose the last commits.
        if durability == .normal { parameters.append(("synchronous_commit", "off")) }
        configuration.options.additionalStartupParameters = parameters
        // The pool logs every failed connection attempt at info; jobd logs each change of
        // state once itself (the dispatcher, the lease, the listener), so the pool's own
        // lines are shown only when jobd logs at debug.
        var background = logger
        if background.logLevel > .debug { background.logLevel = .warning }
        return PostgresClient(configuration: configuration, backgroundLogger: background)
    }
}
