import ArgumentParser
import JobctlOutput
import JobdClient
import JobdModel

/// `jobctl result ID`: print a finished job's result alone on stdout.
struct ResultCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "result",
        abstract: "Print a finished job's result.",
        discussion: """
            A delay job prints its value (a JSON string without quotes, anything else as \
            compact JSON); a fetch job prints the response body (the raw bytes when it is \
            not UTF-8). A failed job prints what result it has (the body of an HTTP error \
            response) and 'error: job N failed: <message> [<code>]' on stderr, and exits 1; \
            so does a cancelled job, and one not finished yet ([not_finished]). \
            With --json, prints the whole record instead.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The job's id.", valueName: "id"))
    var id: JobIDArgument

    func run() async throws {
        let record = try await global.withClient { client in try await client.job(id.id) }
        if try !Output.result(of: record, json: global.json) {
            throw ExitCode(ExitCodes.failure)
        }
    }
}
