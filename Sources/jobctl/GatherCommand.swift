import ArgumentParser
import Foundation
import JobctlOutput
import JobdClient
import JobdModel

/// `jobctl gather --file F`: submit a file of jobs as one batch, wait for all, print
/// their results in order; `jobctl gather --batch B` attaches to a batch made before.
struct GatherCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gather",
        abstract: "Submit jobs from an NDJSON file as a batch, wait for all, print their results in order.",
        discussion: """
            The file holds one job spec per line, as the API takes it, for example
            {"kind":"delay","seconds":1,"value":"Data 1"}
            {"kind":"fetch","url":"https://example.com/"}
            Blank lines are skipped. A bad line is reported with its number and nothing is \
            submitted (exit 2). The jobs are stored as one batch (all or none) and run \
            concurrently; the batch's id is printed on stderr ('batch 12'), and the batch \
            lives on the daemon: if this command is killed or its terminal closes, 'jobctl \
            gather --batch 12' attaches again and prints the same results. Each result \
            prints on its own line in file order, as 'jobctl result' prints it; a job that \
            failed prints 'error: job N failed: <message> [<code>]' in its place. Exits 1 if \
            any job failed or was cancelled. With --json, prints a JSON array of the \
            finished records in file order. While waiting, a progress line (done/total, \
            failures, rate, ETA) is drawn on stderr when it is a terminal, and cleared at \
            the end; Ctrl-C then exits 130 (the batch runs on).
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: .shortAndLong, help: ArgumentHelp("The NDJSON file; - reads stdin.", valueName: "file"))
    var file: String?

    @Option(help: ArgumentHelp("Attach to this batch instead of submitting one.", valueName: "id"))
    var batch: BatchIDArgument?

    @Option(help: ArgumentHelp("A label for the new batch (jobctl batch list shows it).", valueName: "text"))
    var label: String?

    @Option(
        name: .customLong("on-complete"),
        help: ArgumentHelp("A job spec (JSON) queued once when every job has ended.", valueName: "json"))
    var onComplete: String?

    func validate() throws {
        guard (file == nil) != (batch == nil) else {
            throw ValidationError("give either --file (a new batch) or --batch (an existing one)")
        }
        if batch != nil, label != nil || onComplete != nil {
            throw ValidationError("--label and --on-complete are for a new batch, not with --batch")
        }
    }

    func run() async throws {
        let request: CreateBatchRequest? =
            if let file {
                CreateBatchRequest(
                    jobs: try SpecFile.read(file), label: label, onComplete: try onComplete.map(SpecFile.spec(json:)))
            } else {
                nil
            }
        let attach = batch?.id
        let global = global
        let display = ProgressDisplay.forStandardError()
        let records = try await Interrupt.catching(enabled: display != nil) {
            defer { display?.finish() }
            return try await global.withClient { client in
                let ids: [JobID]
                if let request {
                    let created = try await client.createBatch(request)
                    Output.error("batch \(created.id)")
                    ids = created.jobIDs
                } else {
                    ids = try await client.batch(attach ?? BatchID(1)).jobIDs ?? []
                }
                // One event stream and one read per job serve any number of jobs; the
                // results print only once all are in, in submit order.
                return try await client.waitForAll(
                    ids, progressInterval: display.map { _ in ProgressDisplay.refreshInterval }
                ) { progress in
                    display?.update(progress)
                }
            }
        }
        guard let records else {
            throw ExitCode(Interrupt.exitCode)
        }
        var allSucceeded = true
        for record in records {
            let rendering = ResultRenderer.render(record, asLine: true)
            allSucceeded = allSucceeded && rendering.isSuccess
            if global.json {
                continue
            }
            if let line = rendering.errorLine {
                Output.line(line)
            } else {
                Output.write(rendering.output)
            }
        }
        if global.json {
            try Output.json(records)
        }
        if !allSucceeded {
            throw ExitCode(ExitCodes.failure)
        }
    }
}
