import JobdModel

extension TextTable {
    /// The table `jobctl batch list` prints: `ID  STATE  JOBS  DONE  FAILED  CREATED  LABEL`,
    /// where FAILED counts failed and cancelled jobs.
    ///
    /// - Parameter batches: The batches, one row each, in the order given.
    /// - Returns: The table, with its header even when there are none.
    public static func batchList(_ batches: [BatchRecord]) -> TextTable {
        TextTable(
            header: ["ID", "STATE", "JOBS", "DONE", "FAILED", "CREATED", "LABEL"],
            rows: batches.map { batch in
                [
                    String(describing: batch.id), batch.state.rawValue, String(batch.size),
                    String(batch.counts.terminal), String(batch.counts.failed + batch.counts.cancelled),
                    HumanFormat.date(batch.createdAt), batch.label ?? "",
                ]
            }
        )
    }

    /// The key/value view of a batch that `jobctl batch status` prints: its state, its
    /// jobs per state (the non-zero ones), times, `on_complete` job and job ids.
    ///
    /// - Parameter batch: The batch.
    /// - Returns: The table, without a header.
    public static func batchFields(_ batch: BatchRecord) -> TextTable {
        let perState = JobState.allCases.filter { batch.counts[$0] > 0 }.map { "\(batch.counts[$0]) \($0.rawValue)" }
        var pairs: [(String, String)] = [
            ("id", String(describing: batch.id)),
            ("state", batch.state.rawValue),
            ("jobs", "\(batch.size)" + (perState.isEmpty ? "" : ": " + perState.joined(separator: ", "))),
        ]
        if let label = batch.label { pairs.append(("label", label)) }
        pairs.append(("created", HumanFormat.date(batch.createdAt)))
        pairs.append(("finished", HumanFormat.date(batch.finishedAt)))
        if let onComplete = batch.onCompleteID { pairs.append(("on complete", "job \(onComplete)")) }
        if let ids = batch.jobIDs { pairs.append(("job ids", HumanFormat.idList(ids))) }
        return .keyValue(pairs)
    }
}
