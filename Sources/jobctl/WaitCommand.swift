import ArgumentParser
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
            names the unfinished jobs). With --json, prints the records as a JSON array.
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
        let records = try await global.withClient { client in
            let clock = ContinuousClock()
            let end = timeout.map { clock.now.advanced(by: $0.duration) }
            var records: [JobRecord] = []
            // The daemon runs the jobs concurrently, so waiting in turn costs no more
            // than waiting for the slowest. Past the deadline, a zero timeout just reads
            // each remaining job's state.
            for argument in ids {
                let remaining = end.map { max($0 - clock.now, .zero) }
                records.append(try await client.wait(argument.id, timeout: remaining))
            }
            return records
        }
        if global.json {
            try Output.json(records)
        } else {
            Output.table(TextTable(rows: records.map { [String(describing: $0.id), $0.state.rawValue] }))
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
