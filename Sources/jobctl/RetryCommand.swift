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
        let allRetried = try await global.withClient { client in
            var records: [JobRecord] = []
            var allRetried = true
            for argument in ids {
                do {
                    let record = try await client.retry(argument.id)
                    records.append(record)
                    if !global.json {
                        Output.line("\(record.id) \(record.state.rawValue)")
                    }
                } catch let error as APIError {
                    Output.error("error: job \(argument.id): \(error)")
                    allRetried = false
                }
            }
            if global.json {
                try Output.json(records)
            }
            return allRetried
        }
        if !allRetried {
            throw ExitCode(ExitCodes.failure)
        }
    }
}
