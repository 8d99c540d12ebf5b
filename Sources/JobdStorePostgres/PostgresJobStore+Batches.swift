import Foundation
import JobdModel
import JobdStore
import PostgresNIO

extension PostgresJobStore {
    /// Stores a batch, its jobs in order and its `on_complete` job (`waiting`), in one
    /// transaction; see `JobStore.insertBatch`.
    ///
    /// The batch's end is the database's work: a trigger on `jobs` (migration version 4,
    /// `PostgresMigrations.batches`) ends the batch in the transaction of its last job's
    /// end, whichever node writes it, queues `on_complete` once and announces the end to
    /// every node. The ids are drawn first, in a short transaction of their own
    /// (`drawBatchIDs`), so batches' id ranges never interleave. Under `maxQueued`, the check
    /// takes the advisory lock `insert` takes, so the cap holds across nodes. Jobs with
    /// `after` (ids, or positions in the batch) wait as `insert`'s do.
    ///
    /// - Throws: `StoreError` `queue_full`, `unknown_dependency`, or a storage code; then
    ///   nothing is stored.
    public func insertBatch(_ batch: NewBatch, maxQueued: Int?, now: Date) async throws -> BatchInsertOutcome {
        let jobs = batch.jobs
        let encoder = JSONCoding.makeEncoder()
        let specs = try jobs.map {
            try JSONText.encode($0.spec) ?? String(decoding: try encoder.encode($0.spec), as: UTF8.self)
        }
        let (label, onComplete, submitter) = (batch.label, batch.onComplete, batch.submitterUID)
        let uid = submitter.map { Int64($0) }
        let logger = self.logger
        let recentSpecs = self.recentSpecs
        let (batchID, ids) = try await drawBatchIDs(jobs: jobs.count + (onComplete == nil ? 0 : 1))
        return try await transaction("cannot store the batch", operations: max(1, jobs.count)) { connection in
            if let maxQueued {
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.queueCapLock))", logger: logger)
                var queuedBefore = 0
                for try await count in try await connection.query(
                    "SELECT count(*) FROM (SELECT 1 FROM jobs WHERE state = 'queued' LIMIT \(maxQueued + 1)) AS q",
                    logger: logger
                ).decode(Int.self) {
                    queuedBefore = count
                }
                // The on_complete job does not count, nor do jobs with `after`: they wait.
                let queueing = jobs.count { $0.spec.after?.isEmpty != false }
                if queuedBefore + queueing > maxQueued {
                    throw StoreError(
                        .queueFull,
                        "the queue holds \(queuedBefore) of at most \(maxQueued) jobs; \(queueing) more do not fit")
                }
            }
            var rows = InsertColumns()
            var states: [String] = []
            var indexes: [Int] = []
            for (index, job) in jobs.enumerated() {
                rows.append(id: ids[index], job: job, spec: specs[index], now: now)
                states.append(JobState.queued.rawValue)
                indexes.append(index)
            }
            var onCompleteID: Int64?
            if var onComplete {
                onComplete.spec = onComplete.spec.replacingBatchID(BatchID(batchID))
                let spec = String(decoding: try encoder.encode(onComplete.spec), as: UTF8.self)
                onCompleteID = ids[jobs.count]
                rows.append(id: ids[jobs.count], job: onComplete, spec: spec, now: now)
                states.append(JobState.waiting.rawValue)
                // -1: no index, and no batch (on_complete is not a member of its batch).
                indexes.append(-1)
            }
            try await connection.query(
                """
                WITH b AS (
                    INSERT INTO batches (id, label, submitter_uid, created_at, size, pending, on_complete_id)
                    VALUES (\(batchID), \(label), \(uid), \(now), \(jobs.count), \(jobs.count), \(onCompleteID))
                ), stored AS (
                    INSERT INTO jobs (id, \(unescaped: Self.insertedColumns), batch_id, batch_index)
                    SELECT id, kind, spec, state, priority, to_timestamp(run_at), \(now), \(now), max_attempts,
                        NULLIF(timeout, 'NaN'), on_interrupt, NULLIF(key, ''), NULLIF(uid, -1), NULLIF(host, ''),
                        to_timestamp(NULLIF(key_expires_at, 'NaN')), string_to_array(NULLIF(tags, ''), ' '),
                        CASE WHEN batch_index >= 0 THEN \(batchID)::bigint END, NULLIF(batch_index, -1)
                    FROM unnest(\(rows.ids)::bigint[], \(rows.kinds)::text[], \(rows.specs)::text[],
                        \(rows.priorities)::integer[], \(rows.runAts)::double precision[],
                        \(rows.maxAttempts)::integer[], \(rows.timeouts)::double precision[],
                        \(rows.onInterrupts)::text[], \(rows.keys)::text[], \(rows.uids)::bigint[],
                        \(rows.hosts)::text[], \(rows.keyExpiresAts)::double precision[], \(rows.tags)::text[],
                        \(states)::text[], \(indexes)::integer[])
                        AS r(id, kind, spec, priority, run_at, max_attempts, timeout, on_interrupt, key, uid, host,
                            key_expires_at, tags, state, batch_index)
                    RETURNING id, tags
                )
                INSERT INTO job_tags (tag, job_id) SELECT unnest(tags), id FROM stored WHERE tags IS NOT NULL
                """, logger: logger)
            let jobIDs = ids.prefix(jobs.count).map { JobID($0) }
            // After the batch's rows: a job cancelled here (its parent failed) counts as an
            // end of the batch, which the batch trigger records.
            let transitions = try await Self.recordDependencies(
                DependentJob.of(jobs, ids: jobIDs, created: jobs.map { _ in true }), now: now, on: connection,
                logger: logger)
            // Before the commit, as `insert` does: this node's claim right after it skips
            // the specs' decode.
            recentSpecs.keep(zip(jobIDs, jobs).map { ($0.rawValue, $1.spec.resolvingPositions(jobIDs)) })
            let outcome = BatchInsertOutcome(
                id: BatchID(batchID), jobIDs: jobIDs, onCompleteID: onCompleteID.map { JobID($0) })
            return (
                outcome,
                (jobIDs.isEmpty ? [] : [.inserted(jobIDs, submitterUID: submitter)])
                    + (transitions.isEmpty ? [] : [.dependencies(transitions)])
            )
        }
    }

    /// The advisory lock under which batches draw their ids ("jobd" in ASCII, then 3).
    static let batchIDsLock: Int64 = 0x6A6F_6264_0003

    /// Draws a batch's id and `count` job ids, ascending, in a transaction of their own
    /// under `batchIDsLock`.
    ///
    /// Batches drawn so never interleave: a batch's jobs' ids lie between those of the
    /// batches drawn before and after it (other jobs' ids may fall between them, batches'
    /// never do). So ending jobs in job id order (`settle` sorts its finishes, the rescue
    /// walks the primary key) takes the `batches` rows' locks in batch id order, on every
    /// node: nodes ending jobs of the same batches wait for each other and never deadlock.
    /// Drawn ids are not given back when the insert that follows rolls back, and the lock
    /// is held only for the draw, not for the insert.
    private func drawBatchIDs(jobs count: Int) async throws -> (batchID: Int64, jobIDs: [Int64]) {
        let logger = self.logger
        return try await transaction("cannot store the batch", operations: 0) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.batchIDsLock))", logger: logger)
            for try await (batchID, jobIDs) in try await connection.query(
                """
                SELECT nextval('batches_id_seq'),
                    array(SELECT nextval('jobs_id_seq') FROM generate_series(1, \(count)))::bigint[]
                """, logger: logger
            ).decode((Int64, [Int64]).self) {
                guard jobIDs.count == count else { break }
                return ((batchID, jobIDs.sorted()), [])
            }
            throw StoreError(.postgres, "cannot draw the ids of a batch of \(count) jobs")
        }
    }

    /// The batch with its counts and job ids in order, or nil.
    ///
    /// - Throws: `StoreError`.
    public func batch(_ id: BatchID) async throws -> BatchRecord? {
        let logger = self.logger
        return try await read("cannot read batch \(id)") { connection in
            let found = try await Self.batchRecords(
                """
                \(unescaped: Self.batchPageHead)
                SELECT * FROM batches WHERE id = \(id.rawValue)
                \(unescaped: Self.batchPageTail)
                """, on: connection, logger: logger)
            guard var record = found.first else { return nil }
            var jobIDs: [JobID] = []
            jobIDs.reserveCapacity(record.size)
            for try await jobID in try await connection.query(
                "SELECT id FROM jobs WHERE batch_id = \(id.rawValue) ORDER BY batch_index", logger: logger
            ).decode(Int64.self) {
                jobIDs.append(JobID(jobID))
            }
            record.jobIDs = jobIDs
            return record
        }
    }

    /// Each job of the batch as a result entry, in submit order (a pruned job is left out).
    ///
    /// - Throws: `StoreError`.
    public func batchResults(_ id: BatchID) async throws -> [BatchResultItem] {
        let logger = self.logger
        return try await read("cannot read the results of batch \(id)") { connection in
            let decoder = JSONCoding.makeDecoder()
            var items: [BatchResultItem] = []
            for try await (jobID, stateText, resultText, code, message, status) in try await connection.query(
                """
                SELECT id, state, result, error_code, error_message, error_http_status
                FROM jobs WHERE batch_id = \(id.rawValue) ORDER BY batch_index
                """, logger: logger
            ).decode((Int64, String, String?, String?, String?, Int?).self) {
                guard let state = JobState(rawValue: stateText) else {
                    throw StoreError(.badData, "job \(jobID) has an unknown state \(stateText)")
                }
                let result: JobResult?
                do {
                    result = try resultText.map { try decoder.decode(JobResult.self, from: Data($0.utf8)) }
                } catch {
                    throw StoreError(.badData, "job \(jobID) has a result that does not decode: \(error)")
                }
                items.append(
                    BatchResultItem(
                        id: JobID(jobID), state: state, result: result,
                        error: code.map { JobError(.init(rawValue: $0), message ?? "", httpStatus: status) }))
            }
            return items
        }
    }

    /// A page of batches, newest first, with their counts and without their job ids.
    ///
    /// - Throws: `StoreError`.
    public func batches(_ query: BatchListQuery) async throws -> [BatchRecord] {
        let logger = self.logger
        let uid = query.submitterUID.map { Int64($0) }
        let state = query.state?.rawValue
        let before = query.before?.rawValue
        return try await read("cannot list batches") { connection in
            // NULL filters match everything, as in `list`: the planner folds them away.
            try await Self.batchRecords(
                """
                \(unescaped: Self.batchPageHead)
                SELECT * FROM batches
                WHERE (\(uid)::bigint IS NULL OR submitter_uid = \(uid))
                    AND (\(state)::text IS NULL OR state = \(state))
                    AND (\(before)::bigint IS NULL OR id < \(before))
                ORDER BY id DESC LIMIT \(query.limit)
                \(unescaped: Self.batchPageTail)
                """, on: connection, logger: logger)
        }
    }

    /// Cancels a batch's waiting and queued jobs and names its running ones, in one
    /// transaction; see `JobStore.cancelBatch`.
    ///
    /// The batch's unfinished jobs are locked first, in id order (the order in which every
    /// writer that waits for job locks takes them: settle, release, rescue), and its
    /// `batches` row only by the trigger, after them, as a settle does: the two never wait
    /// for each other in a circle. A job being finished meanwhile is waited for and then
    /// left out. Cancelling the last unfinished jobs ends the batch in
    /// this transaction (the trigger), which queues its `on_complete` job: that job belongs
    /// to no batch and is not cancelled. The jobs that wait for the cancelled ones are
    /// settled at the commit, as after `cancel`.
    ///
    /// - Returns: What was done; nil when no batch has this id.
    /// - Throws: `StoreError`.
    public func cancelBatch(_ id: BatchID, now: Date) async throws -> BatchCancelOutcome? {
        let logger = self.logger
        let node = membership.nodeID
        return try await transaction("cannot cancel batch \(id)") { connection in
            var exists = false
            for try await _ in try await connection.query(
                "SELECT 1::integer FROM batches WHERE id = \(id.rawValue)", logger: logger
            ).decode(Int.self) {
                exists = true
            }
            guard exists else { return (nil, []) }
            var cancellable: [Int64] = []
            var outcome = BatchCancelOutcome(cancelled: [], runningHere: [], runningElsewhere: [])
            var changes: [StoreChange] = []
            var requested: [StoreChange] = []
            for try await (jobID, stateText, count, attemptID, jobNode, uid) in try await connection.query(
                """
                SELECT id, state, attempt_count, attempt_id, node_id, submitter_uid FROM jobs
                WHERE batch_id = \(id.rawValue) AND state IN ('waiting', 'queued', 'running')
                ORDER BY id FOR UPDATE
                """, logger: logger
            ).decode((Int64, String, Int, Int64?, Int64?, Int64?).self) {
                if stateText != JobState.running.rawValue {
                    cancellable.append(jobID)
                    outcome.cancelled.append(JobID(jobID))
                    changes.append(.cancelled(JobID(jobID), submitterUID: uid.map { UInt32(truncatingIfNeeded: $0) }))
                    continue
                }
                guard let attemptID else {
                    throw StoreError(.badData, "job \(jobID) is running without an attempt")
                }
                // As `cancel`: an attempt of another incarnation is that node's to stop.
                if let jobNode, jobNode != node {
                    outcome.runningElsewhere.append(JobID(jobID))
                } else {
                    outcome.runningHere.append(AttemptRef(jobID: JobID(jobID), attemptID: attemptID, number: count))
                }
                requested.append(.cancelRequested(JobID(jobID)))
            }
            if !cancellable.isEmpty {
                try await connection.query(
                    """
                    UPDATE jobs SET state = 'cancelled', error_code = 'cancelled',
                        error_message = 'cancelled with its batch', finished_at = \(now), updated_at = \(now)
                    WHERE id = ANY(\(cancellable)::bigint[])
                    """, logger: logger)
            }
            return (outcome, changes + requested)
        }
    }

    /// How a query of batches begins: `batchPageHead`, a `SELECT` of `batches` rows (the
    /// page), `batchPageTail`. Each batch comes with its counts per state, from the same
    /// statement (one snapshot, one round trip for the whole page): one row per batch and
    /// state, newest batch first.
    private static let batchPageHead = """
        SELECT b.id, b.label, b.submitter_uid, b.created_at, b.size, b.state, b.finished_at, b.on_complete_id,
            c.state, c.n
        FROM (
        """

    /// How a query of batches ends; see `batchPageHead`.
    private static let batchPageTail = """
        ) AS b
        LEFT JOIN LATERAL (
            SELECT state, count(*)::integer AS n FROM jobs WHERE batch_id = b.id GROUP BY state
        ) AS c ON true
        ORDER BY b.id DESC
        """

    /// The batches a `batchPageHead`…`batchPageTail` query answers, in its order, with
    /// their counts and without their job ids.
    private static func batchRecords(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger)
        async throws -> [BatchRecord]
    {
        var records: [BatchRecord] = []
        for try await (id, label, uid, createdAt, size, stateText, finishedAt, onComplete, jobState, count)
            in try await connection.query(query, logger: logger).decode(
                (Int64, String?, Int64?, Date, Int, String, Date?, Int64?, String?, Int?).self)
        {
            if records.last?.id.rawValue != id {
                guard let state = BatchState(rawValue: stateText) else {
                    throw StoreError(.badData, "batch \(id) has an unknown state \(stateText)")
                }
                records.append(
                    BatchRecord(
                        id: BatchID(id), label: label, state: state, size: size, counts: BatchCounts(),
                        createdAt: createdAt, finishedAt: finishedAt,
                        submitterUID: uid.map { UInt32(truncatingIfNeeded: $0) },
                        onCompleteID: onComplete.map { JobID($0) }))
            }
            // No row of the lateral join: a batch whose jobs were all pruned.
            if let jobState = jobState.flatMap(JobState.init(rawValue:)), let count {
                records[records.count - 1].counts[jobState] = count
            }
        }
        return records
    }
}
