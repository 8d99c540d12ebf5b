import ArgumentParser
import JobctlOutput
import JobdClient
import JobdModel

/// `jobctl schedule pause NAME`.
struct SchedulePauseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause",
        abstract: "Pause a schedule: its slots pass without firing until it is resumed."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The schedule's name.", valueName: "name"))
    var name: String

    func run() async throws {
        try await Self.set(name, paused: true, global: global)
    }

    /// Pauses or resumes, and says so.
    static func set(_ name: String, paused: Bool, global: GlobalOptions) async throws {
        let record = try await global.withClient { client in try await client.setSchedulePaused(name, paused: paused) }
        if global.json {
            try Output.json(record)
        } else {
            Output.line("schedule \(record.name) " + (record.paused ? "paused" : "resumed"))
        }
    }
}
