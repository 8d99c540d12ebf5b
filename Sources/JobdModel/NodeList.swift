import Foundation

/// One jobd node of a PostgreSQL cluster, as `GET /v1/nodes` shows it.
///
/// A node that restarts is a new incarnation with a new `id`; an incarnation whose lease
/// ran out is shown with `alive` false until the leader forgets it (an hour later).
public struct NodeInfo: Codable, Hashable, Sendable {
    /// The incarnation's id.
    public var id: Int64
    /// `node.name`.
    public var name: String
    /// The jobd version it runs.
    public var version: String
    /// Its worker limit.
    public var workers: Int
    /// Attempts it was running at its last renewal.
    public var running: Int
    /// When it joined.
    public var startedAt: Date
    /// When its lease runs out unless renewed.
    public var leaseExpiresAt: Date
    /// True while its lease holds.
    public var alive: Bool
    /// True for the cluster's leader.
    public var leader: Bool

    public init(
        id: Int64, name: String, version: String, workers: Int, running: Int, startedAt: Date,
        leaseExpiresAt: Date, alive: Bool, leader: Bool
    ) {
        self.id = id
        self.name = name
        self.version = version
        self.workers = workers
        self.running = running
        self.startedAt = startedAt
        self.leaseExpiresAt = leaseExpiresAt
        self.alive = alive
        self.leader = leader
    }

    enum CodingKeys: String, CodingKey {
        case id, name, version, workers, running, alive, leader
        case startedAt = "started_at"
        case leaseExpiresAt = "lease_expires_at"
    }
}

/// The body of `GET /v1/nodes`.
public struct NodeListResponse: Codable, Hashable, Sendable {
    /// The engine: `sqlite` (one node, no list) or `postgres`.
    public var engine: String
    /// The cluster's nodes, by name; empty on SQLite.
    public var nodes: [NodeInfo]

    public init(engine: String, nodes: [NodeInfo]) {
        self.engine = engine
        self.nodes = nodes
    }
}
