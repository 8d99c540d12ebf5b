import Foundation
import JobdModel
import JobdStore
import PostgresNIO

/// When the membership loop should look again.
struct LeaseTiming: Sendable {
    var isLeader: Bool
    /// Time until the next lease that matters runs out: the leader's for a follower, the
    /// earliest other node's for the leader.
    var nextExpiry: Duration?
}

extension PostgresJobStore {
    var leaseSeconds: Double { settings.lease.secondsValue }

    /// Registers a new incarnation of this node and returns its id.
    func join(within limit: Duration) async throws -> Int64 {
        try await withDeadline(limit, "cannot join the cluster") {
            let rows = try await self.client.query(
                """
                INSERT INTO nodes (name, version, workers, lease_until)
                VALUES (\(self.settings.nodeName), \(self.settings.version), \(self.settings.workers),
                    now() + \(self.leaseSeconds) * interval '1 second')
                RETURNING id
                """, logger: self.logger)
            for try await id in rows.decode(Int64.self) { return id }
            throw StoreError(.postgres, "cannot join the cluster: no node id returned")
        }
    }

    /// Registers this node for the first time, at open.
    func register() async throws {
        let sentAt = ContinuousClock.now
        let id = try await join(within: .seconds(10))
        membership.renewed(nodeID: id, sentAt: sentAt)
    }

    /// Renews an incarnation's lease, if it has not expired, and records its running count.
    ///
    /// - Returns: False when the lease had expired: the incarnation is over.
    func renew(nodeID: Int64, within limit: Duration) async throws -> Bool {
        try await withDeadline(limit, "cannot renew the node's lease") {
            let rows = try await self.client.query(
                """
                UPDATE nodes SET renewed_at = now(), lease_until = now() + \(self.leaseSeconds) * interval '1 second',
                    running = (SELECT count(*) FROM jobs WHERE node_id = \(nodeID) AND state = 'running')
                WHERE id = \(nodeID) AND lease_until > now()
                RETURNING id
                """, logger: self.logger)
            for try await _ in rows.decode(Int64.self) { return true }
            return false
        }
    }

    /// Takes or keeps the leadership when it is free or this node's, and says when to look
    /// again.
    func campaign() async throws -> LeaseTiming {
        guard let me = membership.claimingNodeID else { return LeaseTiming(isLeader: false, nextExpiry: nil) }
        return try await withDeadline(settings.lease / 3, "cannot campaign for leadership") {
            let rows = try await self.client.query(
                """
                WITH elected AS (
                    INSERT INTO leader (id, node_id, name, lease_until)
                    VALUES (1, \(me), \(self.settings.nodeName), now() + \(self.leaseSeconds) * interval '1 second')
                    ON CONFLICT (id) DO UPDATE SET node_id = excluded.node_id, name = excluded.name,
                        lease_until = excluded.lease_until,
                        elected_at = CASE WHEN leader.node_id = excluded.node_id THEN leader.elected_at ELSE now() END
                    WHERE leader.node_id = excluded.node_id OR leader.lease_until < now()
                    RETURNING node_id)
                SELECT EXISTS (SELECT 1 FROM elected),
                    extract(epoch FROM (SELECT lease_until FROM leader) - now())::double precision,
                    extract(epoch FROM (SELECT min(lease_until) FROM nodes
                        WHERE id <> \(me) AND lease_until > now()) - now())::double precision
                """, logger: self.logger)
            for try await (isLeader, leaderLeft, nodeLeft) in rows.decode((Bool, Double?, Double?).self) {
                // The leader row read here is the snapshot before the upsert: for a new
                // leader it is the old lease, which no longer matters.
                let next = isLeader ? nodeLeft : leaderLeft
                return LeaseTiming(isLeader: isLeader, nextExpiry: next.map { .milliseconds(Int64(max(0, $0) * 1000)) })
            }
            return LeaseTiming(isLeader: false, nextExpiry: nil)
        }
    }
}

extension PostgresJobStore {
    /// Every known node incarnation, by name, with the leader marked.
    public func nodes() async throws -> [NodeInfo]? {
        let logger = self.logger
        return try await read("cannot list the nodes") { connection in
            var nodes: [NodeInfo] = []
            for try await (id, name, version, workers, running, started, until, alive, leader)
                in try await connection
                .query(
                    """
                    SELECT n.id, n.name, n.version, n.workers, n.running, n.started_at, n.lease_until,
                        n.lease_until > now(), coalesce(l.node_id = n.id AND l.lease_until > now(), false)
                    FROM nodes n LEFT JOIN leader l ON l.id = 1
                    ORDER BY n.name, n.id
                    """, logger: logger
                ).decode((Int64, String, String, Int, Int, Date, Date, Bool, Bool).self)
            {
                nodes.append(
                    NodeInfo(
                        id: id, name: name, version: version, workers: workers, running: running, startedAt: started,
                        leaseExpiresAt: until, alive: alive, leader: leader))
            }
            return nodes
        }
    }
}

extension PostgresJobStore {
    /// The `cluster_settings` row's pause switch.
    public func clusterPaused() async throws -> Bool? {
        let logger = self.logger
        return try await read("cannot read the cluster's pause switch") { connection in
            var paused = false
            for try await value in try await connection.query(
                "SELECT paused FROM cluster_settings WHERE id = 1", logger: logger
            ).decode(Bool.self) {
                paused = value
            }
            return paused
        }
    }

    /// Sets the switch and tells every node (`pauseChanged`).
    public func setClusterPaused(_ paused: Bool) async throws -> Bool {
        let logger = self.logger
        try await transaction("cannot set the cluster's pause switch") { connection in
            try await connection.query("UPDATE cluster_settings SET paused = \(paused) WHERE id = 1", logger: logger)
            return ((), [.pauseChanged(paused)])
        }
        return true
    }
}
