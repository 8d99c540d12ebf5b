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
            A fetch job prints the response body exactly as received, streamed as it \
            arrives (so 'jobctl result ID > file' reproduces it byte for byte; on a \
            terminal a final newline is added when it has none). A delay job prints its \
            value (a JSON string without quotes, anything else as compact JSON). A failed \
            job prints what result it has (the body of an HTTP error response) and \
            'error: job N failed: <message> [<code>]' on stderr, and exits 1; so does a \
            cancelled job, and one not finished yet ([not_finished]). \
            With --json, prints the whole record instead.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The job's id.", valueName: "id"))
    var id: JobIDArgument

    func run() async throws {
        let id = self.id.id
        let json = global.json
        let succeeded = try await global.withClient { client in
            if json {
                return try Output.result(of: try await client.job(id), json: true)
            }
            let download: ResultDownload
            do {
                download = try await client.result(id)
            } catch let error as APIError where error.code == .notFinished || error.code == .noResult {
                // No result to stream: the record (without a body to speak of) gives the
                // error line `jobctl result` always printed.
                return try Output.result(of: try await client.job(id), json: false)
            }
            return try await Output.result(of: download)
        }
        if !succeeded {
            throw ExitCode(ExitCodes.failure)
        }
    }
}
