import ArgumentParser
import JobctlOutput
import JobdClient
import JobdModel

/// `jobctl wait ID...`: wait until jobs are finished.
struct WaitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wait",
        abstract: "Wait for jobs to finish and print their states.",
        discussion: """
            Prints 'ID  STATE' for each job once all are finished (or the timeout passed). \
            Exits 1 if any failed or was cancelled, or if the timeout passed first (stderr \
            names the unfinished jobs). With --json, prints the records as a JSON array. \
            With more than one job, a progress line (done/total, failures, rate, ETA) is \
            drawn on stderr while waiting when it is a terminal, and cleared at the end; \
            Ctrl-C then exits 130.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(
        help: ArgumentHelp("Give up after this long (30, 5m). Default: wait as long as it takes.", valueName: "seconds")
    )
    var timeout: SecondsArgument?

    @Argument(help: ArgumentHelp("The jobs' ids.", valueName: "id"))
    var ids: [JobIDArgument]

    func validate() throws {
        if ids.isEmpty {
            throw ValidationError("Give at least one job id.")
        }
    }

    func run() async throws {
        let records: [JobRecord]
        if ids.count == 1 {
            records = [
                try await global.withClient { client in try await client.wait(ids[0].id, timeout: timeout?.duration) }
            ]
        } else {
            let global = global
            let ids = ids.map(\.id)
            let timeout = timeout?.duration
            let display = ProgressDisplay.forStandardError()
            let waited = try await Interrupt.catching(enabled: display != nil) {
                defer { display?.finish() }
                return try await global.withClient { client in
                    try await client.waitForAll(
                        ids, timeout: timeout, progressInterval: display.map { _ in ProgressDisplay.refreshInterval }
                    ) { progress in
                        display?.update(progress)
                    }
                }
            }
            guard let waited else {
                throw ExitCode(Interrupt.exitCode)
            }
            records = waited
        }
        if global.json {
            try Output.json(records)
        } else {
            Output.table(.jobStates(records))
        }
        var ok = true
        for record in records where record.state == .failed || record.state == .cancelled {
            if let line = ResultRenderer.errorLine(for: record) {
                Output.error(line)
            }
            ok = false
        }
        let unfinished = records.filter { !$0.state.isTerminal }.map { String(describing: $0.id) }
        if !unfinished.isEmpty, let timeout {
            let jobs = unfinished.count == 1 ? "job" : "jobs"
            Output.error(
                "error: \(unfinished.count) \(jobs) not finished after \(HumanFormat.seconds(timeout.seconds)): "
                    + "\(unfinished.joined(separator: ", ")) [not_finished]")
            ok = false
        }
        if !ok {
            throw ExitCode(ExitCodes.failure)
        }
    }
}
