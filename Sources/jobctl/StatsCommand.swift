import ArgumentParser
import JobdClient
import JobdModel

/// `jobctl stats`: the daemon's counters.
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show job counts per state and the daemon's counters.",
        discussion: "With --json, prints the API's response."
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let stats = try await global.withClient { client in try await client.stats() }
        if global.json {
            try Output.json(stats)
        } else {
            Output.table(Self.table(stats))
        }
    }

    /// The key/value view, keys spelled as on the wire.
    static func table(_ stats: StatsResponse) -> TextTable {
        .keyValue([
            ("queued", String(stats.queued)),
            ("running", String(stats.running)),
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
        ])
    }
}
