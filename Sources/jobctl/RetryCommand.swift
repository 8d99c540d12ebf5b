import ArgumentParser
import JobdClient
import JobdModel

/// `jobctl retry ID...`: queue finished jobs again.
struct RetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Queue finished jobs again, with a fresh attempt budget.",
        discussion: """
            Works on succeeded, failed and cancelled jobs: each is queued again and gets \
            its max_attempts anew; earlier attempts stay in its history. Prints 'N queued' \
            per job (or 'N running' when it already started by the time jobd answered). A job that cannot be retried (unknown, still queued or running) prints \
            an error and the rest go on; then the exit code is 1. Does not wait: follow with \
            'jobctl wait'. With --json, prints the queued records as a JSON array.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The jobs' ids.", valueName: "id"))
    var ids: [JobIDArgument]

    func validate() throws {
        if ids.isEmpty {
            throw ValidationError("Give at least one job id.")
        }
    }

    func run() async throws {
        try await global.forEachJob(ids, { client, id in try await client.retry(id) }) { record in
            "\(record.id) \(record.state.rawValue)"
        }
    }
}
