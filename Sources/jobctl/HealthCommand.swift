import ArgumentParser
import JobdClient
import JobdModel

/// `jobctl health`: check that the daemon answers.
struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Check that jobd is running.",
        discussion: """
            Prints 'ok: jobd 0.1.0, pid N, up 12s, database PATH' ('stopping: …' during a \
            graceful shutdown). Exits 69 when jobd cannot be reached. With --json, prints \
            the API's response.
            """
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let health = try await global.withClient { client in try await client.health() }
        if global.json {
            try Output.json(health)
        } else {
            Output.line(Self.line(health))
        }
    }

    /// `<status>: jobd <version>, pid <pid>, up <uptime>, database <path>`.
    static func line(_ health: HealthResponse) -> String {
        "\(health.status): jobd \(health.version), pid \(health.pid), "
            + "up \(HumanFormat.seconds(health.uptimeSeconds.rounded(.down))), database \(health.database)"
    }
}
