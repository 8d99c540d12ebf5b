import ArgumentParser
import Foundation
import JobctlOutput
import JobdClient
import JobdModel

/// `jobctl submit`: the parent of `submit fetch` and `submit delay`, and itself
/// `submit --file F`, a batch submit of an NDJSON file.
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit a job (or a file of jobs) and print its id.",
        discussion: """
            Prints the new job's id alone on stdout, so 'id=$(jobctl submit delay 1)' works; \
            with --json, the stored record. With --wait, waits for the job and prints its \
            result as 'jobctl result' does.

            'jobctl submit --file F' (- reads stdin) submits an NDJSON file of job specs, \
            one per line as for 'jobctl gather', as one batch (all or none), and prints the \
            new ids one per line in file order without waiting; with --json, the API's \
            answer ({"ids":[...]}).
            """,
        subcommands: [SubmitFetchCommand.self, SubmitDelayCommand.self]
    )

    @OptionGroup var global: GlobalOptions

    @Option(
        name: .shortAndLong,
        help: ArgumentHelp("Submit the jobs of this NDJSON file as one batch; - reads stdin.", valueName: "file"))
    var file: String?

    @Flag(
        name: .shortAndLong,
        help:
            "Print the new ids alone, one per line: with --file the default; with fetch or delay also with --wait (which then only sets the exit status)."
    )
    var quiet = false

    func run() async throws {
        guard let file else {
            throw CommandError.usage("give a job kind (jobctl submit fetch|delay …) or --file FILE")
        }
        if quiet, global.json {
            throw ValidationError("--quiet and --json cannot be used together.")
        }
        let specs = try SpecFile.read(file)
        let ids = try await global.withClient { client in try await client.submit(batch: specs) }
        if global.json {
            try Output.json(SubmitBatchResponse(ids: ids))
        } else {
            Output.write(Data(ids.map { "\($0)\n" }.joined().utf8))
        }
    }
}
