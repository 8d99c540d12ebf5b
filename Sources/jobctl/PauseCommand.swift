import ArgumentParser
import JobctlOutput
import JobdClient
import JobdModel

/// `jobctl pause`: stop dispatching queued jobs.
struct PauseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause",
        abstract: "Stop starting queued jobs; running jobs go on.",
        discussion: """
            Submits are still accepted and queue up. 'jobctl resume' starts dispatching \
            again; so does a restart of jobd. Pausing a paused jobd is not an error. With \
            --json, prints the API's response.
            """
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let answer = try await global.withClient { client in try await client.pause() }
        if global.json {
            try Output.json(answer)
        } else {
            Output.line("paused: no queued job starts until 'jobctl resume'; running jobs go on")
        }
    }
}
