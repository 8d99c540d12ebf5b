import ArgumentParser
import JobctlOutput
import JobdClient
import JobdModel

/// `jobctl schedule rm NAME`.
struct ScheduleRemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Remove a schedule (the jobs it made stay).",
        discussion: "A schedule of the configuration file is removed there, then jobd reloaded."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The schedule's name.", valueName: "name"))
    var name: String

    func run() async throws {
        let name = self.name
        let record = try await global.withClient { client in try await client.deleteSchedule(name) }
        if global.json {
            try Output.json(record)
        } else {
            Output.line("schedule \(record.name) removed")
        }
    }
}
