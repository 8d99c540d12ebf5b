import ArgumentParser
import JobctlOutput
import JobdClient
import JobdModel

/// `jobctl status ID`: a job's fields and its attempts.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a job's state, result summary and attempts.",
        discussion: "With --json, prints the full record."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The job's id.", valueName: "id"))
    var id: JobIDArgument

    func run() async throws {
        let record = try await global.withClient { client in try await client.job(id.id) }
        if global.json {
            try Output.json(record)
            return
        }
        Output.table(.jobFields(record))
        let attempts = record.attempts ?? []
        if !attempts.isEmpty {
            Output.line("")
            Output.table(.attempts(attempts))
        }
    }
}
