import Foundation
import GRDB
import JobdModel
import JobdStore

extension SQLiteJobStore {
    /// Stores a batch, its jobs in order and its `on_complete` job (`waiting`), in one
    /// transaction; see `JobStore.insertBatch`. The batch's end is the triggers' work
    /// (`SQLiteJobStore+BatchSchema.swift`).
    ///
    /// - Throws: `StoreError` `queue_full`, or a storage code; then nothing is stored.
    public func insertBatch(_ batch: NewBatch, maxQueued: Int?, now: Date) async throws -> BatchInsertOutcome {
        let jobs = batch.jobs
        let rows = try await Self.offPoolIfLarge(jobs.count) { try Self.encodedRows(jobs) }
        let nowSeconds = now.timeIntervalSince1970
        let (label, onComplete, submitter) = (batch.label, batch.onComplete, batch.submitterUID)
        let recentSpecs = self.recentSpecs
        let specs = jobs.map(\.spec)
        let keepThenAnnounce: @Sendable ((BatchInsertOutcome, [DependencyTransition])) -> Void = { [weak self] answer in
            let (outcome, transitions) = answer
            recentSpecs.keep(zip(outcome.jobIDs, specs).map { ($0.rawValue, $1.resolvingPositions(outcome.jobIDs)) })
            self?.announce(
                [.inserted(outcome.jobIDs, submitterUID: submitter)]
                    + (transitions.isEmpty ? [] : [.dependencies(transitions)]))
        }
        return try await write("cannot store the batch", afterCommit: keepThenAnnounce) { db in
            if let maxQueued {
                let queuedBefore = try Self.queuedCount(in: db, upTo: maxQueued)
                let queueing = jobs.count { $0.spec.after?.isEmpty != false }
                if queuedBefore + queueing > maxQueued {
                    throw StoreError(
                        .queueFull,
                        "the queue holds \(queuedBefore) of at most \(maxQueued) jobs; \(queueing) more do not fit")
                }
            }
            try db.cachedStatement(
                sql: """
                    INSERT INTO batches (label, submitter_uid, created_at, size, pending) VALUES (?, ?, ?, ?, ?)
                    """
            ).execute(arguments: [label, submitter.map { Int64($0) }, nowSeconds, rows.count, rows.count])
            let batchID = db.lastInsertedRowID
            var jobIDs: [JobID] = []
            jobIDs.reserveCapacity(rows.count)
            var index = 0
            while index < rows.count {
                // A run of plain jobs goes in multi-row inserts.
                var plainEnd = index
                while plainEnd < rows.count && JobRowBatch.isPlain(rows[plainEnd].0) { plainEnd += 1 }
                if plainEnd > index {
                    jobIDs += try JobRowBatch.insert(
                        rows[index..<plainEnd], now: nowSeconds, batch: (batchID, index),
                        ranks: try self.insertRanks(in: db),
                        in: db)
                    index = plainEnd
                    continue
                }
                let (job, specJSON, host) = rows[index]
                jobIDs.append(
                    try Self.insertRow(
                        job, specJSON: specJSON, host: host, now: nowSeconds, batch: (batchID, index), in: db))
                index += 1
            }
            var onCompleteID: JobID?
            if var onComplete {
                onComplete.spec = onComplete.spec.replacingBatchID(BatchID(batchID))
                let (job, specJSON, host) = try Self.encodedRows([onComplete])[0]
                let id = try Self.insertRow(
                    job, specJSON: specJSON, host: host, now: nowSeconds, state: .waiting, in: db)
                try db.cachedStatement(sql: "UPDATE batches SET on_complete_id = ? WHERE id = ?")
                    .execute(arguments: [id.rawValue, batchID])
                onCompleteID = id
            }
            let dependent = Self.dependents(
                zip(jobIDs, jobs).map { id, job in (id, job.spec, submitter) }, ids: jobIDs)
            let transitions =
                dependent.isEmpty ? [] : try Self.recordDependencies(dependent, now: nowSeconds, in: db)
            return (BatchInsertOutcome(id: BatchID(batchID), jobIDs: jobIDs, onCompleteID: onCompleteID), transitions)
        }.0
    }

    /// The batch with its counts and job ids, or nil.
    ///
    /// - Throws: `StoreError`.
    public func batch(_ id: BatchID) async throws -> BatchRecord? {
        try await read("cannot read batch \(id)") { db in
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT \(Self.batchColumns) FROM batches WHERE id = ?"),
                    arguments: [id.rawValue])
            else { return nil }
            var record = try Self.batchRecord(
                from: row, counts: Self.batchCounts(of: [id.rawValue], in: db)[id.rawValue])
            record.jobIDs = try Int64.fetchAll(
                db.cachedStatement(sql: "SELECT id FROM jobs WHERE batch_id = ? ORDER BY batch_index"),
                arguments: [id.rawValue]
            ).map { JobID($0) }
            return record
        }
    }

    /// Each job of the batch as a result entry, in submit order.
    ///
    /// - Throws: `StoreError`.
    public func batchResults(_ id: BatchID) async throws -> [BatchResultItem] {
        try await read("cannot read the results of batch \(id)") { db in
            let decoder = JSONCoding.makeDecoder()
            return try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT id, state, result, error_code, error_message, error_http_status
                        FROM jobs WHERE batch_id = ? ORDER BY batch_index
                        """), arguments: [id.rawValue]
            ).map { row in
                let jobID: Int64 = row["id"]
                guard let state = JobState(rawValue: row["state"]) else {
                    throw StoreError(.badData, "job \(jobID) has an unknown state")
                }
                let resultText: String? = row["result"]
                let result: JobResult?
                do {
                    result = try resultText.map { try decoder.decode(JobResult.self, from: Data($0.utf8)) }
                } catch {
                    throw StoreError(.badData, "job \(jobID) has a result that does not decode: \(error)")
                }
                let code: String? = row["error_code"]
                return BatchResultItem(
                    id: JobID(jobID), state: state, result: result,
                    error: code.map {
                        JobError(.init(rawValue: $0), row["error_message"] ?? "", httpStatus: row["error_http_status"])
                    })
            }
        }
    }

    /// A page of batches, newest first, with their counts.
    ///
    /// - Throws: `StoreError`.
    public func batches(_ query: BatchListQuery) async throws -> [BatchRecord] {
        try await read("cannot list batches") { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let uid = query.submitterUID {
                conditions.append("submitter_uid = ?")
                arguments += [Int64(uid)]
            }
            if let state = query.state {
                conditions.append("state = ?")
                arguments += [state.rawValue]
            }
            if let before = query.before {
                conditions.append("id < ?")
                arguments += [before.rawValue]
            }
            arguments += [query.limit]
            let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: "SELECT \(Self.batchColumns) FROM batches \(whereClause) ORDER BY id DESC LIMIT ?"),
                arguments: arguments)
            let counts = try Self.batchCounts(of: rows.map { $0["id"] }, in: db)
            return try rows.map { row in try Self.batchRecord(from: row, counts: counts[row["id"]]) }
        }
    }

    /// Cancels a batch's waiting and queued jobs and names its running ones, in one
    /// transaction.
    ///
    /// - Throws: `StoreError`.
    public func cancelBatch(_ id: BatchID, now: Date) async throws -> BatchCancelOutcome? {
        let nowSeconds = now.timeIntervalSince1970
        let announce: @Sendable ((BatchCancelOutcome, UInt32?)?) -> Void = { [weak self] answer in
            guard let (outcome, owner) = answer else { return }
            self?.announce(outcome.cancelled.map { .cancelled($0, submitterUID: owner) })
        }
        return try await write("cannot cancel batch \(id)", afterCommit: announce) { db in
            guard
                let owner = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT submitter_uid FROM batches WHERE id = ?"), arguments: [id.rawValue])
            else { return nil }
            let uid = (owner[0] as Int64?).map { UInt32(truncatingIfNeeded: $0) }
            let cancelled = try Int64.fetchAll(
                db.cachedStatement(
                    sql: """
                        UPDATE jobs SET state = 'cancelled', error_code = 'cancelled',
                            error_message = 'cancelled with its batch', finished_at = ?, updated_at = ?
                        WHERE batch_id = ? AND state IN ('waiting', 'queued')
                        RETURNING id
                        """), arguments: [nowSeconds, nowSeconds, id.rawValue]
            ).sorted().map { JobID($0) }
            let running = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT id, attempt_count, (SELECT max(id) FROM attempts WHERE job_id = jobs.id) AS attempt_id
                        FROM jobs WHERE batch_id = ? AND state = 'running' ORDER BY batch_index
                        """), arguments: [id.rawValue]
            ).compactMap { row -> AttemptRef? in
                guard let attemptID = row["attempt_id"] as Int64? else { return nil }
                return AttemptRef(jobID: JobID(row["id"] as Int64), attemptID: attemptID, number: row["attempt_count"])
            }
            return (BatchCancelOutcome(cancelled: cancelled, runningHere: running, runningElsewhere: []), uid)
        }?.0
    }

    static let batchColumns = """
        id, label, submitter_uid, created_at, size, state, finished_at, on_complete_id
        """

    static func batchRecord(from row: Row, counts: BatchCounts?) throws -> BatchRecord {
        let id: Int64 = row["id"]
        guard let state = BatchState(rawValue: row["state"]) else {
            throw StoreError(.badData, "batch \(id) has an unknown state")
        }
        let finishedAt: Double? = row["finished_at"]
        let uid: Int64? = row["submitter_uid"]
        let onComplete: Int64? = row["on_complete_id"]
        return BatchRecord(
            id: BatchID(id), label: row["label"], state: state, size: row["size"], counts: counts ?? BatchCounts(),
            createdAt: Date(timeIntervalSince1970: row["created_at"]),
            finishedAt: finishedAt.map(Date.init(timeIntervalSince1970:)),
            submitterUID: uid.map { UInt32(truncatingIfNeeded: $0) }, onCompleteID: onComplete.map { JobID($0) })
    }

    /// The jobs of these batches per state.
    static func batchCounts(of ids: [Int64], in db: Database) throws -> [Int64: BatchCounts] {
        guard !ids.isEmpty else { return [:] }
        var counts: [Int64: BatchCounts] = [:]
        let placeholders = Array(repeating: "?", count: ids.count).joined(separator: ",")
        for row in try Row.fetchAll(
            db,
            sql:
                "SELECT batch_id, state, count(*) FROM jobs WHERE batch_id IN (\(placeholders)) GROUP BY batch_id, state",
            arguments: StatementArguments(ids))
        {
            guard let state = JobState(rawValue: row[1]) else { continue }
            counts[row[0], default: BatchCounts()][state] = row[2]
        }
        return counts
    }
}
