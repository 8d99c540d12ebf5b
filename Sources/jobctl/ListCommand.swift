import ArgumentParser
import Foundation
import JobctlOutput
import JobdClient
import JobdModel

/// `jobctl list`: a table of jobs, newest first.
struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List jobs, newest first.",
        discussion: """
            Shows one page. When there are more, stderr says which --after gets the next \
            one. With --json, prints the API's response (jobs and next_after): job \
            summaries, whose results are described by size (result_bytes, \
            result_content_type, result_status); 'jobctl result ID' prints one. With \
            --quiet, prints the ids alone, one per line.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("Only jobs in this state.", valueName: "state"))
    var state: StateArgument?

    @Option(help: ArgumentHelp("Only jobs of this kind.", valueName: "kind"))
    var kind: KindArgument?

    @Option(help: ArgumentHelp("Only jobs with this tag (looked up in the daemon's tag index).", valueName: "tag"))
    var tag: String?

    @Option(help: ArgumentHelp("At most this many jobs. Default: the daemon's page size.", valueName: "n"))
    var limit: Int?

    @Option(help: ArgumentHelp("Only jobs older than this id (the next page's cursor).", valueName: "id"))
    var after: JobIDArgument?

    @Flag(name: .shortAndLong, help: "Print the job ids alone, one per line.")
    var quiet = false

    func validate() throws {
        if quiet, global.json {
            throw ValidationError("--quiet and --json cannot be used together.")
        }
        if let limit, limit < 1 {
            throw ValidationError("--limit must be 1 or more, got \(limit).")
        }
        if let tag, !JobSpec.isValidTag(tag) {
            throw ValidationError(
                "--tag must be 1 to \(JobSpec.maxTagLength) characters of A-Z a-z 0-9 _ . : -, got '\(tag)'.")
        }
    }

    func run() async throws {
        let page = try await global.withClient { client in
            try await client.list(state: state?.state, kind: kind?.kind, tag: tag, limit: limit, after: after?.id)
        }
        if global.json {
            try Output.json(page)
            return
        }
        if quiet {
            Output.write(Data(page.jobs.map { "\($0.id)\n" }.joined().utf8))
        } else {
            Output.table(.jobList(page.jobs))
        }
        if let next = page.nextAfter {
            Output.error("more jobs: jobctl list --after \(next)")
        }
    }
}
