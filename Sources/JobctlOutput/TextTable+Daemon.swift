import Foundation
import JobdModel

extension TextTable {
    /// The key/value view `jobctl stats` prints, keys spelled as on the wire.
    ///
    /// - Parameter stats: The daemon's counters.
    /// - Returns: The table, without a header; `paused` is `yes` or `no` and the uptime
    ///   is in whole seconds, formatted as `HumanFormat.seconds(_:)` does.
    public static func stats(_ stats: StatsResponse) -> TextTable {
        // Sizes only where the daemon tells them (an older one, or PostgreSQL's free and
        // WAL sizes, do not).
        let known: [(String, Int64?)] = [
            ("database", stats.databaseBytes), ("database_free", stats.databaseFreeBytes),
            ("database_wal", stats.databaseWALBytes),
        ]
        let sizes = known.compactMap { key, value in value.map { (key, HumanFormat.bytes(Int($0))) } }
        return .keyValue(
            [
                ("waiting", String(stats.waiting)),
                ("queued", String(stats.queued)),
                ("running", String(stats.running)),
                ("rate_limited", String(stats.rateLimited)),
                ("succeeded", String(stats.succeeded)),
                ("failed", String(stats.failed)),
                ("cancelled", String(stats.cancelled)),
                ("workers", String(stats.workers)),
                ("paused", stats.paused ? "yes" : "no"),
                ("max_running", String(stats.maxRunning)),
                ("submitted", String(stats.submitted)),
                ("finished", String(stats.finished)),
                ("commits", String(stats.commits)),
                ("uptime", HumanFormat.seconds(stats.uptimeSeconds.rounded(.down))),
            ] + sizes)
    }

    /// The key/value view `jobctl workers` prints: `workers` and `paused` (yes or no).
    ///
    /// - Parameter answer: The worker limit and the paused flag.
    /// - Returns: The table, without a header.
    public static func dispatch(_ answer: DispatchResponse) -> TextTable {
        .keyValue([("workers", String(answer.workers)), ("paused", answer.paused ? "yes" : "no")])
    }
}

extension TextTable {
    /// The table `jobctl nodes` prints: one row per node incarnation.
    ///
    /// - Parameter nodes: The nodes, as `GET /v1/nodes` lists them.
    /// - Returns: The table, with a header; the lease expiry in ISO 8601.
    public static func nodes(_ nodes: [NodeInfo]) -> TextTable {
        TextTable(
            header: ["NAME", "ID", "VERSION", "WORKERS", "RUNNING", "LEASE EXPIRES", "STATE"],
            rows: nodes.map { node in
                [
                    node.name, String(node.id), node.version, String(node.workers), String(node.running),
                    node.leaseExpiresAt.formatted(.iso8601),
                    node.alive ? (node.leader ? "alive, leader" : "alive") : "dead",
                ]
            })
    }
}
