import ArgumentParser
import JobctlOutput
import JobdClient
import JobdModel

/// `jobctl batch list`: batches, newest first.
struct BatchListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List batches, newest first (your own unless you are an admin).",
        discussion: """
            One line per batch: id, state, jobs, how many are done and how many failed or \
            were cancelled, when it was made, its label. --after takes the last id of the \
            previous page. With --json, prints the API's page.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "Only batches in this state: running, succeeded or failed.")
    var state: String?

    @Option(help: "At most this many batches.")
    var limit: Int?

    @Option(help: ArgumentHelp("Only batches older than this one (paging).", valueName: "id"))
    var after: BatchIDArgument?

    func run() async throws {
        var state: BatchState?
        if let text = self.state {
            guard let value = BatchState(rawValue: text) else {
                throw ValidationError("--state must be one of running, succeeded, failed")
            }
            state = value
        }
        let (limit, after) = (limit, after?.id)
        let page = try await global.withClient { client in
            try await client.batches(state: state, limit: limit, after: after)
        }
        if global.json {
            try Output.json(page)
        } else {
            Output.table(TextTable.batchList(page.batches))
        }
    }
}
