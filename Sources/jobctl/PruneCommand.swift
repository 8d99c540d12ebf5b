import ArgumentParser
import JobctlOutput
import JobdClient
import JobdModel

/// `jobctl prune --older-than DURATION`: delete old finished jobs.
struct PruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Delete finished jobs older than a given age.",
        discussion: """
            Deletes succeeded, failed and cancelled jobs (with their attempts) that finished \
            more than --older-than ago; queued and running jobs are never touched. jobd also \
            prunes on its own after its retention period. Prints 'pruned N jobs'. With \
            --json, prints the API's response.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(
        name: .customLong("older-than"),
        help: ArgumentHelp(
            "The age, with a unit: 30s, 90m, 12h, 1d, 2w. 0s deletes every finished job.", valueName: "duration"))
    var olderThan: String

    func validate() throws {
        _ = try age()
    }

    func run() async throws {
        let age = try age()
        let pruned = try await global.withClient { client in try await client.prune(olderThan: age) }
        if global.json {
            try Output.json(PruneResponse(pruned: pruned))
        } else {
            Output.line("pruned \(pruned) \(pruned == 1 ? "job" : "jobs")")
        }
    }

    /// The parsed `--older-than`.
    ///
    /// - Throws: `ValidationError` (exit 2) for a bare number or a bad duration.
    private func age() throws -> Duration {
        guard let age = ArgumentText.duration(olderThan, requiringUnit: true) else {
            throw ValidationError(
                "--older-than needs a duration with a unit, such as 30s, 90m, 12h or 1d; got '\(olderThan)'.")
        }
        return age
    }
}
