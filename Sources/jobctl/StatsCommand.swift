import ArgumentParser
import JobctlOutput
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
            Output.table(.stats(stats))
        }
    }
}
