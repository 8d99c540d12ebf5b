import ArgumentParser
import JobctlOutput
import JobdClient
import JobdModel

/// `jobctl resume`: start dispatching again after `pause`.
struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Start queued jobs again after 'jobctl pause'.",
        discussion: "Resuming a jobd that is not paused is not an error. With --json, prints the API's response."
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let answer = try await global.withClient { client in try await client.resume() }
        if global.json {
            try Output.json(answer)
        } else {
            Output.line("resumed: up to \(answer.workers) jobs run at once")
        }
    }
}
