/// What the daemon's configuration says about the store, in engine-neutral terms.
public struct StoreSettings: Sendable, Equatable {
    /// The SQLite database file (`database.path`); unused by a cluster engine.
    public var databasePath: String
    /// How durable a commit is (`database.synchronous`).
    public var durability: StoreDurability
    /// The cluster database and this node's place in it; nil for the embedded engine.
    public var cluster: ClusterSettings?
    /// Whether claims will share by uid (`scheduling.fair_share`): the engine keeps the
    /// index those claims walk only while it is needed (it costs every insert and claim).
    public var fairShare: FairShare

    public init(
        databasePath: String, durability: StoreDurability = .full, cluster: ClusterSettings? = nil,
        fairShare: FairShare = .off
    ) {
        self.databasePath = databasePath
        self.durability = durability
        self.cluster = cluster
        self.fairShare = fairShare
    }
}

/// A node of a cluster: which database, how many connections, its name and its lease.
public struct ClusterSettings: Sendable, Equatable {
    /// The database (`database.url`).
    public var url: DatabaseURL
    /// The password when the URL has none (`database.password_file`).
    public var password: String?
    /// Connections of the pool for queries (`database.pool_size`); one more listens.
    public var poolSize: Int
    /// This node's name (`node.name`): unique among live nodes.
    public var nodeName: String
    /// How long a node's lease lasts (`node.lease`): renewed every third of it; a node
    /// that cannot renew stops its attempts when it runs out, and the leader rescues them.
    public var lease: Duration
    /// The daemon's version, shown by `GET /v1/nodes`.
    public var version: String
    /// The node's worker limit, shown by `GET /v1/nodes`.
    public var workers: Int

    public init(
        url: DatabaseURL, password: String? = nil, poolSize: Int = 10, nodeName: String,
        lease: Duration = .seconds(15), version: String = "", workers: Int = 0
    ) {
        self.url = url
        self.password = password
        self.poolSize = poolSize
        self.nodeName = nodeName
        self.lease = lease
        self.version = version
        self.workers = workers
    }
}

/// How durable a commit is before the client hears of it.
///
/// Every engine has the trade: SQLite's `synchronous` FULL or NORMAL, PostgreSQL's
/// `synchronous_commit` on or off.
public enum StoreDurability: String, Sendable, CaseIterable {
    /// A commit is on stable storage before the reply: it survives a power cut. The default.
    case full
    /// A commit survives a crash of the process, not necessarily a power cut.
    case normal
}
