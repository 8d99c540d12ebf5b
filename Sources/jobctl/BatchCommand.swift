import ArgumentParser

/// `jobctl batch status|list|cancel`: batches made by `jobctl gather` or `POST /v1/batches`.
struct BatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Show, list and cancel batches (jobctl gather makes them).",
        discussion: """
            A batch is jobs submitted together whose results are kept together in submit \
            order, on the daemon: a client that disconnects loses nothing, and 'jobctl \
            gather --batch ID' attaches again. Its optional on_complete job is queued once \
            when every job has ended.
            """,
        subcommands: [BatchStatusCommand.self, BatchListCommand.self, BatchCancelCommand.self]
    )
}
