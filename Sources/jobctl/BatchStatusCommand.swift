import ArgumentParser
import JobctlOutput
import JobdClient
import JobdModel

/// `jobctl batch status ID`: one batch, its jobs per state.
struct BatchStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a batch: its state, its jobs per state, its on_complete job.",
        discussion: "With --json, prints the API's record (job ids included)."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The batch's id.", valueName: "id"))
    var batch: BatchIDArgument

    func run() async throws {
        let id = batch.id
        let record = try await global.withClient { client in try await client.batch(id) }
        if global.json {
            try Output.json(record)
        } else {
            Output.table(TextTable.batchFields(record))
        }
    }
}
