import ArgumentParser
import JobctlOutput
import JobdClient
import JobdModel

/// `jobctl batch cancel ID`: every unfinished job of a batch.
struct BatchCancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel every unfinished job of a batch.",
        discussion: """
            Waiting and queued jobs are cancelled at once; running ones are stopped and end \
            cancelled. The batch then ends failed, and its on_complete job (if any) is \
            queued. With --json, prints the API's answer.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The batch's id.", valueName: "id"))
    var batch: BatchIDArgument

    func run() async throws {
        let id = batch.id
        let answer = try await global.withClient { client in try await client.cancelBatch(id) }
        if global.json {
            try Output.json(answer)
        } else {
            Output.line("batch \(answer.id): \(answer.cancelled) cancelled, \(answer.stopping) stopping")
        }
    }
}
