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
        adminGroup: String? = nil
    ) {
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
