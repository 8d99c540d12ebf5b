import Foundation
import JobdModel

extension TextTable {
    /// The key/value view `jobctl stats` prints, keys spelled as on the wire.
    ///
    /// - Parameter stats: The daemon's counters.
    /// - Returns: The table, without a header; `paused` is `yes` or `no`, the uptime is
    ///   in whole seconds, formatted as `HumanFormat.seconds(_:)` does, and the database's
    ///   size, where the daemon tells it, comes last as one `database` row with its free
    ///   pages and WAL (`2.1 MiB (4 KiB free, WAL 3.7 MiB)`; the JSON has the exact bytes).
    public static func stats(_ stats: StatsResponse) -> TextTable {
        var pairs: [(String, String)] = [
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
        ]
        // One row each, so the key column keeps its width (scripts match `workers:       2`);
        // only what the daemon tells (an older one nothing, PostgreSQL no free or WAL size).
        if let bytes = stats.databaseBytes {
            let details = [
                stats.databaseFreeBytes.map { "\(HumanFormat.bytes(Int($0))) free" },
                stats.databaseWALBytes.map { "WAL \(HumanFormat.bytes(Int($0)))" },
            ].compactMap { $0 }
            let text = HumanFormat.bytes(Int(bytes))
            pairs.append(("database", details.isEmpty ? text : "\(text) (\(details.joined(separator: ", ")))"))
        }
        if let hosts = stats.hosts {
            let text = hosts.map { host in
                "\(host.host) running \(host.running) rate_limited \(host.rateLimited)"
            }
            pairs.append(("hosts", text.joined(separator: ", ")))
        }
        return .keyValue(pairs)
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
