import ArgumentParser
import JobctlOutput
import JobdClient
import JobdModel

/// `jobctl workers [N]`: show or change the global worker limit.
struct WorkersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workers",
        abstract: "Show the worker limit, or change it while jobd runs.",
        discussion: """
            Without N, prints the limit and whether dispatching is paused. With N, sets the \
            limit: raising it starts queued jobs at once; lowering it lets running jobs \
            finish and starts new ones only below the new limit. The change lasts until \
            jobd restarts (then --workers / JOBD_WORKERS applies again). With --json, prints \
            the API's response.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The new limit, 1 or more.", valueName: "n"))
    var workers: Int?

    func validate() throws {
        if let workers, workers < 1 {
            throw ValidationError("The worker limit must be 1 or more, got \(workers).")
        }
    }

    func run() async throws {
        let answer = try await global.withClient { client in
            if let workers {
                return try await client.setWorkers(workers)
            }
            return try await client.workers()
        }
        if global.json {
            try Output.json(answer)
        } else {
            Output.table(.dispatch(answer))
        }
    }
}
