/// Settings of the API server.
public struct ServerOptions: Sendable {
    /// The Unix socket path.
    public var socketPath: String
    /// The socket file's mode.
    public var socketMode: UInt16
    /// The largest request body, in bytes.
    public var maxBodyBytes: Int
    /// The most jobs in one batch submit.
    public var maxBatch: Int
    /// The default and the longest long-poll of `wait`.
    public var defaultWait: Duration
    public var maxWait: Duration
    /// The most jobs a list page returns.
    public var maxListLimit: Int
    /// The group the socket file is given (`chown`), so its members may connect; nil keeps
    /// the daemon's group.
    public var socketGroup: String?
    /// Peers whose uid is not listed get 403 `forbidden`; empty allows every uid. Root and
    /// the daemon's own uid are always allowed.
    public var allowedUIDs: [UInt32]
    /// Peers get 403 `forbidden` unless their gid, or a group their user belongs to in the
    /// user database, is listed; empty allows every group.
    public var allowedGIDs: [UInt32]
    /// Members of this group (a name or a number; by the peer's gid or the user database)
    /// see and act on every user's jobs and control dispatching, as root does.
    public var adminGroup: String?
    /// The most connections open at once. Past it a new connection is answered 503
    /// `too_many_connections` and closed, except from root and the daemon's own uid, which
    /// may open `reservedConnections` more (so an operator still gets in during a flood).
    /// The server lowers it to fit the open-file limit (see `SocketServer`).
    public var maxConnections: Int
    /// The most connections one uid may have open at once (root and the daemon's uid
    /// excepted); nil: only `maxConnections` applies.
    public var maxConnectionsPerUID: Int?
    /// A connection that sends nothing for this long while no request is being answered
    /// (idle between requests, or stalled in a request head or body) is closed. A request
    /// being answered, such as a long-poll `wait` or the `events` stream, is never cut.
    /// nil: never.
    public var idleTimeout: Duration?
    /// A request head must be complete this long after the connection opened, or after
    /// the first byte of the next request on a kept-alive connection; else the
    /// connection is closed (slowloris). nil: no deadline.
    public var requestHeadTimeout: Duration?

    /// Connections over `maxConnections` that root and the daemon's uid may still open.
    public static let reservedConnections = 64

    public init(
        socketPath: String,
        socketMode: UInt16 = 0o660,
        maxBodyBytes: Int = 16 * 1024 * 1024,
        maxBatch: Int = 10_000,
        defaultWait: Duration = .seconds(30),
        maxWait: Duration = .seconds(300),
        maxListLimit: Int = 1000,
        socketGroup: String? = nil,
        allowedUIDs: [UInt32] = [],
        allowedGIDs: [UInt32] = [],
        adminGroup: String? = nil,
        maxConnections: Int = 16_384,
        maxConnectionsPerUID: Int? = 4096,
        idleTimeout: Duration? = .seconds(60),
        requestHeadTimeout: Duration? = .seconds(10)
    ) {
        self.maxConnections = maxConnections
        self.maxConnectionsPerUID = maxConnectionsPerUID
        self.idleTimeout = idleTimeout
        self.requestHeadTimeout = requestHeadTimeout
        self.socketGroup = socketGroup
        self.allowedUIDs = allowedUIDs
        self.allowedGIDs = allowedGIDs
        self.adminGroup = adminGroup
        self.socketPath = socketPath
        self.socketMode = socketMode
        self.maxBodyBytes = maxBodyBytes
        self.maxBatch = maxBatch
        self.defaultWait = defaultWait
        self.maxWait = maxWait
        self.maxListLimit = maxListLimit
    }
}
