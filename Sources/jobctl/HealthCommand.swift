import ArgumentParser
import JobctlOutput
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
            Output.line(HumanFormat.health(health))
        }
    }
}
