import Foundation
import JobdModel
import JobdStore
import PostgresNIO

extension PostgresJobStore {
    /// Cancels a queued job at once, or names the running attempt and asks every node to
    /// stop it (`StoreChange.cancelRequested`): the one that runs it does.
    ///
    /// The jobs that wait for a cancelled job are settled in the same commit by the
    /// database's commit-time trigger (migration version 5), which announces them to every
    /// node, this one too.
    public func cancel(_ jobID: JobID, now: Date) async throws -> CancelOutcome {
        let logger = self.logger
        return try await transaction("cannot cancel job \(jobID)") { connection in
            let rows = try await connection.query(
                """
                SELECT state, attempt_count, submitter_uid, attempt_id, node_id
                FROM jobs WHERE id = \(jobID.rawValue) FOR UPDATE
                """, logger: logger)
            for try await (stateText, count, uid, attemptID, node) in rows.decode(
                (String, Int, Int64?, Int64?, Int64?).self)
            {
                let submitter = uid.map { UInt32(truncatingIfNeeded: $0) }
                guard let state = JobState(rawValue: stateText) else {
                    throw StoreError(.badData, "job \(jobID) has an unknown state \(stateText)")
                }
                switch state {
                case .waiting, .queued:
                    try await connection.query(
                        """
                        UPDATE jobs SET state = 'cancelled', error_code = 'cancelled',
                            error_message = \("cancelled while \(state.rawValue)"), finished_at = \(now), updated_at = \(now)
                        WHERE id = \(jobID.rawValue)
                        """, logger: logger)
                    return (.cancelled, [.cancelled(jobID, submitterUID: submitter)])
                case .running:
                    guard let attemptID else {
                        throw StoreError(.badData, "job \(jobID) is running without an attempt")
                    }
                    if let node, node != self.membership.nodeID {
                        return (.runningElsewhere, [.cancelRequested(jobID)])
                    }
                    return (
                        .running(AttemptRef(jobID: jobID, attemptID: attemptID, number: count)),
                        [.cancelRequested(jobID)]
                    )
                case .succeeded, .failed, .cancelled:
                    return (.alreadyTerminal(state), [])
                }
            }
            return (.notFound, [])
        }
    }

    /// Puts claimed jobs back to `queued` as if never claimed, fenced like a finish.
    public func release(_ attempts: [AttemptRef], now: Date) async throws {
        guard !attempts.isEmpty else { return }
        // In job id order, the order every writer locks jobs in (`cancelBatch` locks a
        // batch's running jobs too): two of them never wait for each other in a circle.
        let attempts = attempts.sorted { $0.jobID.rawValue < $1.jobID.rawValue }
        let jobIDs = attempts.map(\.jobID.rawValue)
        let numbers = attempts.map(\.number)
        let attemptIDs = attempts.map(\.attemptID)
        let logger = self.logger
        // For this node's watchers the job never left the queue (its start was never
        // published); the other nodes saw it start, so they hear it is queued again, and
        // one of them may run it.
        try await transaction("cannot release claimed jobs", announcesLocally: false) { connection in
            var changes: [StoreChange] = []
            for try await (id, uid) in try await connection.query(
                """
                WITH r AS (
                    SELECT * FROM unnest(\(jobIDs)::bigint[], \(numbers)::integer[], \(attemptIDs)::bigint[])
                        AS r(job_id, number, attempt_id)
                ), back AS (
                    UPDATE jobs j SET state = 'queued', attempt_count = j.attempt_count - 1, updated_at = \(now),
                        attempt_id = NULL, node_id = NULL, node_name = NULL, started_at = NULL
                    FROM r
                    WHERE j.id = r.job_id AND j.state = 'running' AND j.attempt_count = r.number
                        AND j.attempt_id = r.attempt_id
                    RETURNING j.id, j.submitter_uid
                )
                SELECT id, submitter_uid FROM back
                """, logger: logger
            ).decode((Int64, Int64?).self) {
                changes.append(.requeued(JobID(id), submitterUID: uid.map { UInt32(truncatingIfNeeded: $0) }))
            }
            return ((), changes)
        }
    }

    /// Queues a finished job again with a fresh attempt budget.
    public func retry(_ jobID: JobID, defaultMaxAttempts: Int, now: Date) async throws -> RetryOutcome {
        let logger = self.logger
        return try await transaction("cannot retry job \(jobID)") { connection in
            let rows = try await connection.query(
                """
                SELECT state, spec, attempt_count, interrupted_count, submitter_uid
                FROM jobs WHERE id = \(jobID.rawValue) FOR UPDATE
                """, logger: logger)
            for try await (stateText, specText, count, interrupted, uid) in rows.decode(
                (String, String, Int, Int, Int64?).self)
            {
                let submitter = uid.map { UInt32(truncatingIfNeeded: $0) }
                guard let state = JobState(rawValue: stateText) else {
                    throw StoreError(.badData, "job \(jobID) has an unknown state \(stateText)")
                }
                guard state.isTerminal else { return (.notFinished(state), []) }
                let spec = try? JSONCoding.makeDecoder().decode(JobSpec.self, from: Data(specText.utf8))
                let budget = (count - interrupted) + (spec?.maxAttempts ?? defaultMaxAttempts)
                try await connection.query(
                    """
                    UPDATE jobs SET state = 'queued', run_at = \(now), updated_at = \(now), finished_at = NULL,
                        result = NULL, error_code = NULL, error_message = NULL, error_http_status = NULL,
                        max_attempts = \(budget)
                    WHERE id = \(jobID.rawValue)
                    """, logger: logger)
                return (.requeued, [.requeued(jobID, submitterUID: submitter)])
            }
            return (.notFound, [])
        }
    }

    /// Deletes up to `limit` finished jobs that finished before `cutoff`. Safe from many
    /// nodes at once: rows another node is deleting are skipped.
    ///
    /// The jobs of a batch go only with their batch, once the batch finished before
    /// `cutoff` (its results stay whole while it runs); the batch's row goes with its last
    /// job, in the same transaction. A job's dependency edges and tags go with it.
    public func prune(finishedBefore cutoff: Date, limit: Int) async throws -> Int {
        let logger = self.logger
        return try await transaction("cannot prune finished jobs") { connection in
            var deleted = 0
            for try await count in try await connection.query(
                """
                WITH gone AS (
                    DELETE FROM jobs WHERE id IN (
                        SELECT id FROM jobs WHERE finished_at IS NOT NULL AND finished_at < \(cutoff)
                            AND state IN ('succeeded', 'failed', 'cancelled')
                            AND (batch_id IS NULL OR batch_id IN (
                                SELECT id FROM batches WHERE finished_at IS NOT NULL AND finished_at < \(cutoff)))
                        LIMIT \(limit) FOR UPDATE OF jobs SKIP LOCKED)
                    RETURNING id, tags
                ), untagged AS (
                    -- Their tags, by job_tags' primary key (the job's own list of them).
                    DELETE FROM job_tags t USING gone, unnest(gone.tags) AS g(tag)
                    WHERE t.tag = g.tag AND t.job_id = gone.id
                ), as_parent AS (
                    -- Their edges go with them, by either index. A deleted job is terminal:
                    -- its children were settled when it ended, and its own parents no longer
                    -- count for it. An edge between two deleted jobs is deleted by one CTE
                    -- and skipped by the other.
                    DELETE FROM job_dependencies d USING gone WHERE d.parent_id = gone.id
                ), as_child AS (
                    DELETE FROM job_dependencies d USING gone WHERE d.child_id = gone.id
                )
                SELECT count(*)::integer FROM gone
                """, logger: logger
            ).decode(Int.self) {
                deleted = count
            }
            // Sees this transaction's deletes above: a batch whose last jobs went there goes
            // now. A batch still being emptied by another node's prune goes in a later round.
            try await connection.query(
                """
                DELETE FROM batches WHERE id IN (
                    SELECT id FROM batches b WHERE finished_at IS NOT NULL AND finished_at < \(cutoff)
                        AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.batch_id = b.id)
                    LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                """, logger: logger)
            return (deleted, [])
        }
    }
}
