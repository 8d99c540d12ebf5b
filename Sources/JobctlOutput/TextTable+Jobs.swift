import JobdModel

extension TextTable {
    /// The table `jobctl list` prints: `ID  STATE  KIND  ATTEMPTS  CREATED  SUMMARY`.
    ///
    /// - Parameter jobs: The jobs, one row each, in the order given.
    /// - Returns: The table, with its header even when there are no jobs.
    public static func jobList(_ jobs: [JobSummary]) -> TextTable {
        TextTable(
            header: ["ID", "STATE", "KIND", "ATTEMPTS", "CREATED", "SUMMARY"],
            rows: jobs.map { job in
                [
                    String(describing: job.id),
                    job.state.rawValue,
                    job.kind.rawValue,
                    "\(job.attemptCount)/\(job.maxAttempts)",
                    HumanFormat.date(job.createdAt),
                    HumanFormat.summary(job.spec),
                ]
            }
        )
    }

    /// The key/value view of a job that `jobctl status` prints.
    ///
    /// `tags` shows only when the job has some, `run at` only while it is queued; `start`
    /// only while a claimed fetch waits for its host's rate limit (`waiting for rate limit
    /// of HOST (token due HH:mm:ss.SSS)`); `error` only when it has one; then the result's
    /// summary: status, size, elapsed time and final URL for a fetch, the value for a delay.
    ///
    /// - Parameter record: The job.
    /// - Returns: The table, without a header.
    public static func jobFields(_ record: JobRecord) -> TextTable {
        var pairs: [(String, String)] = [
            ("id", String(describing: record.id)),
            ("kind", record.kind.rawValue),
            ("state", record.state.rawValue),
            ("job", HumanFormat.summary(record.spec)),
            ("priority", String(record.priority)),
            ("attempts", "\(record.attemptCount)/\(record.maxAttempts)"),
            ("created", HumanFormat.date(record.createdAt)),
        ]
        if let tags = record.spec.tags, !tags.isEmpty {
            pairs.append(("tags", tags.joined(separator: ", ")))
        }
        if let batch = record.batchID {
            pairs.append(("batch", String(describing: batch)))
        }
        if let parents = record.spec.after, !parents.isEmpty {
            pairs.append(("after", parents.map(\.description).joined(separator: ", ")))
        }
        if let children = record.children, !children.isEmpty {
            pairs.append(("children", HumanFormat.idList(children)))
        }
        if record.state == .queued {
            pairs.append(("run at", HumanFormat.date(record.runAt)))
        }
        if let wait = record.rateLimit {
            pairs.append(
                ("start", "waiting for rate limit of \(wait.host) (token due \(HumanFormat.timeOfDay(wait.startsAt)))"))
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

    /// The attempts table of `jobctl status`: `#  STARTED  ENDED  OUTCOME  ERROR`, with a
    /// `NODE` column after `#` when any attempt names its node (PostgreSQL).
    ///
    /// - Parameter attempts: The job's attempts, one row each, in the order given.
    /// - Returns: The table, with its header.
    public static func attempts(_ attempts: [JobAttempt]) -> TextTable {
        let withNode = attempts.contains { $0.node != nil }
        return TextTable(
            header: ["#"] + (withNode ? ["NODE"] : []) + ["STARTED", "ENDED", "OUTCOME", "ERROR"],
            rows: attempts.map { attempt in
                [String(attempt.number)] + (withNode ? [attempt.node ?? "-"] : []) + [
                    HumanFormat.date(attempt.startedAt),
                    HumanFormat.date(attempt.finishedAt),
                    attempt.outcome.rawValue,
                    attempt.error.map { "\($0.code): \($0.message)" } ?? "",
                ]
            }
        )
    }

    /// The table `jobctl wait` prints: `ID  STATE` for each job, without a header.
    ///
    /// - Parameter records: The jobs, one row each, in the order given.
    /// - Returns: The table.
    public static func jobStates(_ records: [JobRecord]) -> TextTable {
        TextTable(rows: records.map { [String(describing: $0.id), $0.state.rawValue] })
    }
}
