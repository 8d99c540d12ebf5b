import ArgumentParser
import Foundation
import JobctlOutput
import JobdClient
import JobdModel

/// `jobctl watch [ID...]`: print job events live.
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Print every job state change as it happens.",
        discussion: """
            One aligned line per event: the local time, the job, the event (submitted, \
            started, attempt_failed, retry_scheduled, succeeded, failed, cancelled, \
            interrupted, requeued) and its details, for example
            14:25:04.123  job 5       started          attempt 1
            With ids, only those jobs' events. With --json, each event's JSON on one line. \
            Runs until Ctrl-C or until jobd stops (exit 0). If jobd drops the watcher \
            because it reads too slowly, prints an error ([lagged]) and exits 1.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("Only these jobs' events.", valueName: "id"))
    var ids: [JobIDArgument] = []

    func run() async throws {
        let global = global
        let only = Set(ids.map(\.id))
        let ending = try await Interrupt.catching {
            try await global.withClient { client in
                try await Self.watch(client, only: only, json: global.json)
            }
        }
        if ending == .lagged {
            throw CommandError(
                message: "jobd dropped this watcher because it read events too slowly; events were lost",
                code: JobEventType.lagged.rawValue, exitCode: ExitCodes.failure)
        }
    }

    /// How the stream ended.
    enum Ending: Sendable {
        /// jobd ended it (it stopped).
        case ended
        /// jobd dropped this subscriber.
        case lagged
    }

    /// Prints events until the stream ends.
    static func watch(_ client: JobdClient, only: Set<JobID>, json: Bool) async throws -> Ending {
        let encoder = JSONCoding.makeEncoder()
        for try await event in try await client.events() {
            if event.type != .lagged, !only.isEmpty {
                guard let id = event.jobID, only.contains(id) else { continue }
            }
            if json {
                Output.write(try encoder.encode(event) + Data("\n".utf8))
            } else if event.type != .lagged {
                Output.line(HumanFormat.event(event))
            }
            if event.type == .lagged {
                return .lagged
            }
        }
        return .ended
    }
}
