import ArgumentParser
import JobdClient
import JobdModel

/// `jobctl cancel ID...`: cancel queued or running jobs.
struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel queued or running jobs.",
        discussion: """
            Prints 'N cancelled' for a job that was queued and 'N cancelling (running)' for \
            one whose attempt was asked to stop. A job that cannot be cancelled (unknown, \
            already finished) prints an error and the rest go on; then the exit code is 1. \
            With --json, prints the API's answers as a JSON array.
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
        try await global.forEachJob(ids, { client, id in try await client.cancel(id) }, line: Self.describe)
    }

    /// `N cancelled`, `N cancelling (running)`, or `N <state>`.
    static func describe(_ answer: CancelResponse) -> String {
        switch answer.state {
        case .cancelled: "\(answer.id) cancelled"
        case .running: "\(answer.id) cancelling (running)"
        default: "\(answer.id) \(answer.state.rawValue)"
        }
    }
}
