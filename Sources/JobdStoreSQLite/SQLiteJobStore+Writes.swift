import Foundation
import GRDB
import JobdModel
import JobdStore

extension SQLiteJobStore {
    /// Cancels a queued job at once, or reports the running attempt the runtime must stop.
    ///
    /// - Returns: What the job's state called for.
    /// - Throws: `StoreError`.
    public func cancel(_ jobID: JobID, now: Date) async throws -> CancelOutcome {
        let nowSeconds = now.timeIntervalSince1970
        let announce: @Sendable ((CancelOutcome, UInt32?)) -> Void = { [weak self] answer in
            if answer.0 == .cancelled { self?.announce([.cancelled(jobID, submitterUID: answer.1)]) }
        }
        return try await write("cannot cancel job \(jobID)", afterCommit: announce) { db in
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT state, attempt_count, submitter_uid,
                                (SELECT max(id) FROM attempts WHERE job_id = jobs.id) AS attempt_id
                            FROM jobs WHERE id = ?
                            """),
                    arguments: [jobID.rawValue])
            else { return (.notFound, nil) }
            let submitter = (row["submitter_uid"] as Int64?).map { UInt32(truncatingIfNeeded: $0) }
            let stateText: String = row["state"]
            guard let state = JobState(rawValue: stateText) else {
                throw StoreError(.badData, "job \(jobID) has an unknown state \(stateText)")
            }
            switch state {
            case .waiting, .queued:
                try db.cachedStatement(
                    sql: """
                        UPDATE jobs SET state = 'cancelled', error_code = 'cancelled', error_message = ?,
                            finished_at = ?, updated_at = ?
                        WHERE id = ?
                        """
                ).execute(arguments: ["cancelled while \(state.rawValue)", nowSeconds, nowSeconds, jobID.rawValue])
                return (.cancelled, submitter)
            case .running:
                let attemptID: Int64? = row["attempt_id"]
                guard let attemptID else {
                    throw StoreError(.badData, "job \(jobID) is running without an attempt")
                }
                return (
                    .running(AttemptRef(jobID: jobID, attemptID: attemptID, number: row["attempt_count"])), submitter
                )
            case .succeeded, .failed, .cancelled:
                return (.alreadyTerminal(state), submitter)
            }
        }.0
    }

    /// Puts claimed jobs back to `queued` as if they had never been claimed: their attempt
    /// rows are deleted (they never ran) and their attempt counts restored.
    ///
    /// The dispatcher releases jobs a claim returned beyond a per-kind or per-host limit.
    ///
    /// - Throws: `StoreError`.
    public func release(_ attempts: [AttemptRef], now: Date) async throws {
        guard !attempts.isEmpty else { return }
        let nowSeconds = now.timeIntervalSince1970
        try await write("cannot release claimed jobs") { db in
            let requeue = try db.cachedStatement(
                sql: """
                    UPDATE jobs SET state = 'queued', attempt_count = attempt_count - 1, updated_at = ?
                    WHERE id = ? AND state = 'running' AND attempt_count = ?
                    """)
            let delete = try db.cachedStatement(sql: "DELETE FROM attempts WHERE id = ?")
            for attempt in attempts {
                try requeue.execute(arguments: [nowSeconds, attempt.jobID.rawValue, attempt.number])
                if db.changesCount == 1 { try delete.execute(arguments: [attempt.attemptID]) }
            }
        }
    }

    /// Queues a finished job again, with a fresh attempt budget.
    ///
    /// The budget is the spec's `max_attempts` (else `defaultMaxAttempts`) on top of the
    /// attempts already used; earlier attempts stay in the record.
    ///
    /// - Throws: `StoreError`.
    public func retry(_ jobID: JobID, defaultMaxAttempts: Int, now: Date) async throws -> RetryOutcome {
        let nowSeconds = now.timeIntervalSince1970
        let announce: @Sendable ((RetryOutcome, UInt32?)) -> Void = { [weak self] answer in
            if answer.0 == .requeued { self?.announce([.requeued(jobID, submitterUID: answer.1)]) }
        }
        return try await write("cannot retry job \(jobID)", afterCommit: announce) { db in
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT state, spec, attempt_count, interrupted_count, submitter_uid FROM jobs WHERE id = ?
                            """),
                    arguments: [jobID.rawValue])
            else { return (.notFound, nil) }
            let submitter = (row["submitter_uid"] as Int64?).map { UInt32(truncatingIfNeeded: $0) }
            let stateText: String = row["state"]
            guard let state = JobState(rawValue: stateText) else {
                throw StoreError(.badData, "job \(jobID) has an unknown state \(stateText)")
            }
            guard state.isTerminal else { return (.notFinished(state), submitter) }
            let specText: String = row["spec"]
            let spec = try? JSONCoding.makeDecoder().decode(JobSpec.self, from: Data(specText.utf8))
            let used = (row["attempt_count"] as Int) - (row["interrupted_count"] as Int)
            let budget = spec?.maxAttempts ?? defaultMaxAttempts
            try db.cachedStatement(
                sql: """
                    UPDATE jobs SET state = 'queued', run_at = ?, updated_at = ?, finished_at = NULL, result = NULL,
                        error_code = NULL, error_message = NULL, error_http_status = NULL, max_attempts = ?,
                        fair_rank = NULL
                    WHERE id = ?
                    """
            ).execute(arguments: [nowSeconds, nowSeconds, used + budget, jobID.rawValue])
            return (.requeued, submitter)
        }.0
    }

    /// Deletes up to `limit` finished jobs (and their attempts, edges and tags) that
    /// finished before `cutoff`.
    ///
    /// Small batches keep each transaction short, so pruning never stalls submits. The jobs
    /// of a batch go only with their batch, once the batch finished before `cutoff` (its
    /// results stay whole while it runs); the batch's row goes with its last job.
    ///
    /// - Returns: How many jobs were deleted.
    /// - Throws: `StoreError`.
    public func prune(finishedBefore cutoff: Date, limit: Int) async throws -> Int {
        let cutoffSeconds = cutoff.timeIntervalSince1970
        return try await write("cannot prune finished jobs") { db in
            let deleted = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        DELETE FROM jobs WHERE id IN (
                            SELECT id FROM jobs WHERE finished_at IS NOT NULL AND finished_at < ?
                                AND state IN ('succeeded', 'failed', 'cancelled')
                                AND (batch_id IS NULL OR batch_id IN (
                                    SELECT id FROM batches WHERE finished_at IS NOT NULL AND finished_at < ?))
                            LIMIT ?)
                        RETURNING id, tags
                        """), arguments: [cutoffSeconds, cutoffSeconds, limit])
            let pruned = deleted.count
            // Their edges go with them (both ends are terminal: nothing waits on them), and
            // their tags, by the tag index's own key.
            for row in deleted {
                let id: Int64 = row[0]
                try db.cachedStatement(sql: "DELETE FROM job_dependencies WHERE parent_id = ?").execute(arguments: [id])
                try db.cachedStatement(sql: "DELETE FROM job_dependencies WHERE child_id = ?").execute(arguments: [id])
                if let tags = row[1] as String? { try Self.deleteTags(tags, of: id, in: db) }
            }
            try db.cachedStatement(
                sql: """
                    DELETE FROM batches WHERE id IN (
                        SELECT id FROM batches b WHERE finished_at IS NOT NULL AND finished_at < ?
                            AND NOT EXISTS (SELECT 1 FROM jobs WHERE batch_id = b.id)
                        LIMIT ?)
                    """
            ).execute(arguments: [cutoffSeconds, limit])
            return pruned
        }
    }

    /// Rescues the attempts of dead owners: on SQLite, every attempt left `running`. The
    /// file is held by one process at a time (`DatabaseLock`), so at open every such
    /// attempt belongs to a process that is gone.
    ///
    /// Its job goes back to `queued` (policy `retry`, fewer than
    /// `RescueReport.maxInterruptions` interruptions) or ends `failed` with `interrupted`
    /// (policy `fail`, or too many). An interrupted attempt does not use up one of
    /// `max_attempts`.
    ///
    /// - Important: Call it once, before the dispatcher starts: it takes every running
    ///   attempt for a dead one.
    /// - Throws: `StoreError`.
    public func rescue(now: Date) async throws -> RescueReport {
        let nowSeconds = now.timeIntervalSince1970
        let message = "the daemon stopped while this attempt ran"
        return try await write("cannot recover interrupted jobs") { db in
            try db.execute(
                sql: """
                    UPDATE attempts SET outcome = 'interrupted', finished_at = ?, error_code = 'interrupted',
                        error_message = ?
                    WHERE job_id IN (SELECT id FROM jobs WHERE state = 'running') AND outcome = 'running'
                    """, arguments: [nowSeconds, message])
            let attempts = db.changesCount
            try db.execute(
                sql: """
                    UPDATE jobs SET state = 'queued', interrupted_count = interrupted_count + 1,
                        current_attempt_id = NULL, updated_at = ?
                    WHERE state = 'running' AND on_interrupt = 'retry' AND interrupted_count + 1 < ?
                    """, arguments: [nowSeconds, RescueReport.maxInterruptions])
            let requeued = db.changesCount
            try db.execute(
                sql: """
                    UPDATE jobs SET state = 'failed', interrupted_count = interrupted_count + 1,
                        current_attempt_id = NULL, error_code = 'interrupted', error_message = ?,
                        finished_at = ?, updated_at = ?
                    WHERE state = 'running'
                    """, arguments: [message, nowSeconds, nowSeconds])
            return RescueReport(interruptedAttempts: attempts, requeuedJobs: requeued, failedJobs: db.changesCount)
        }
    }
}
