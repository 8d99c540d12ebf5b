import ArgumentParser
import JobdClient
import JobdModel

/// `jobctl status ID`: a job's fields and its attempts.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a job's state, result summary and attempts.",
        discussion: "With --json, prints the full record."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The job's id.", valueName: "id"))
    var id: JobIDArgument

    func run() async throws {
        let record = try await global.withClient { client in try await client.job(id.id) }
        if global.json {
            try Output.json(record)
            return
        }
        Output.table(Self.fields(record))
        let attempts = record.attempts ?? []
        if !attempts.isEmpty {
            Output.line("")
            Output.table(Self.attemptsTable(attempts))
        }
    }

    /// The key/value view of a job.
    static func fields(_ record: JobRecord) -> TextTable {
        var pairs: [(String, String)] = [
            ("id", String(describing: record.id)),
            ("kind", record.kind.rawValue),
            ("state", record.state.rawValue),
            ("job", HumanFormat.summary(record.spec)),
            ("priority", String(record.priority)),
            ("attempts", "\(record.attemptCount)/\(record.maxAttempts)"),
            ("created", HumanFormat.date(record.createdAt)),
        ]
        if record.state == .queued {
            pairs.append(("run at", HumanFormat.date(record.runAt)))
        }
        pairs.append(("finished", HumanFormat.date(record.finishedAt)))
        if let error = record.error {
            pairs.append(("error", "\(error.code): \(error.message)"))
        }
        switch record.result {
        case .fetch(let result):
            pairs.append(("status", String(result.status)))
            pairs.append(("size", HumanFormat.bytes(result.size)))
            pairs.append(("elapsed", HumanFormat.milliseconds(result.elapsedMs)))
            pairs.append(("final url", result.finalURL))
        case .delay(let result):
            pairs.append(("value", ResultRenderer.text(for: result.value)))
        case nil:
            break
        }
        return .keyValue(pairs)
    }

    /// The attempts table: `#  STARTED  ENDED  OUTCOME  ERROR`.
    static func attemptsTable(_ attempts: [JobAttempt]) -> TextTable {
        TextTable(
            header: ["#", "STARTED", "ENDED", "OUTCOME", "ERROR"],
            rows: attempts.map { attempt in
                [
                    String(attempt.number),
                    HumanFormat.date(attempt.startedAt),
                    HumanFormat.date(attempt.finishedAt),
                    attempt.outcome.rawValue,
                    attempt.error.map { "\($0.code): \($0.message)" } ?? "",
                ]
            }
        )
    }
}
