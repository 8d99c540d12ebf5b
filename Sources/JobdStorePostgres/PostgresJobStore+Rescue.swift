import Foundation
import JobdModel
import JobdStore
import PostgresNIO

extension PostgresJobStore {
    /// Rescues the attempts of dead nodes: every running attempt whose node incarnation's
    /// lease has run out (by the database's clock), as `JobStore.rescue` describes.
    ///
    /// The leader runs it whenever a lease may have run out; `jobd` also runs it once at
    /// start. Each job changes only while it still runs the rescued attempt (job id,
    /// attempt number, state `running`, under the row lock): a finish committed just
    /// before wins and the rescue leaves that job alone (River #1302 is the bug this
    /// avoids). Any node may run it at the same time as another: the row locks make one of
    /// them rescue each attempt. The children of a job that fails here are settled at the
    /// commit, as after `cancel`.
    public func rescue(now: Date) async throws -> RescueReport {
        let logger = self.logger
        let message = "the node running this attempt stopped renewing its lease"
        let maxInterruptions = RescueReport.maxInterruptions
        // The leader looks every third of a lease: a look that finds nothing writes nothing,
        // and is no commit in `statistics` (the write path's counters would otherwise move
        // by themselves, under a caller that counts its own commits).
        let (report, _): (RescueReport, Bool) = try await transaction(
            "cannot rescue the attempts of dead nodes", wrote: { $0.1 }
        ) { connection in
            try await Self.pinPlans(on: connection, logger: logger)
            var jobIDs: [Int64] = []
            for try await jobID in try await connection.query(
                """
                SELECT j.id FROM jobs j
                WHERE j.state = 'running'
                    AND NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = j.node_id AND n.lease_until > now())
                ORDER BY j.id
                FOR UPDATE OF j SKIP LOCKED
                """, logger: logger
            ).decode(Int64.self) {
                jobIDs.append(jobID)
            }
            var rescued: [FinishedAttempt] = []
            if !jobIDs.isEmpty {
                // The running attempt is on the job's row (schema version 3): it ends here.
                try await connection.query(
                    """
                    INSERT INTO attempts (id, job_id, number, node_id, node_name, started_at, finished_at, outcome,
                        error_code, error_message)
                    SELECT attempt_id, id, attempt_count, node_id, node_name,
                        coalesce(started_at, updated_at), \(now), 'interrupted', 'interrupted', \(message)
                    FROM jobs WHERE id = ANY(\(jobIDs)::bigint[])
                    """, logger: logger)
                for try await (id, state, number, uid) in try await connection.query(
                    """
                    UPDATE jobs SET interrupted_count = interrupted_count + 1, updated_at = \(now), attempt_id = NULL,
                        state = CASE WHEN on_interrupt = 'retry' AND interrupted_count + 1 < \(maxInterruptions)
                            THEN 'queued' ELSE 'failed' END,
                        error_code = CASE WHEN on_interrupt = 'retry' AND interrupted_count + 1 < \(maxInterruptions)
                            THEN NULL ELSE 'interrupted' END,
                        error_message = CASE WHEN on_interrupt = 'retry' AND interrupted_count + 1 < \(maxInterruptions)
                            THEN NULL ELSE \(message) END,
                        finished_at = CASE WHEN on_interrupt = 'retry' AND interrupted_count + 1 < \(maxInterruptions)
                            THEN NULL ELSE \(now) END
                    WHERE id = ANY(\(jobIDs)::bigint[]) AND state = 'running'
                    RETURNING id, state, attempt_count, submitter_uid
                    """, logger: logger
                ).decode((Int64, String, Int, Int64?).self) {
                    rescued.append(
                        FinishedAttempt(
                            jobID: JobID(id), attemptNumber: number, outcome: .interrupted,
                            error: JobError(.interrupted, message), retryAt: state == "queued" ? now : nil,
                            submitterUID: uid.map { UInt32(truncatingIfNeeded: $0) }))
                }
            }
            // Incarnations long gone with nothing left running are forgotten.
            var forgotten = 0
            for try await count in try await connection.query(
                """
                WITH gone AS (
                    DELETE FROM nodes n WHERE n.lease_until < now() - interval '1 hour'
                        AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.node_id = n.id AND j.state = 'running')
                    RETURNING 1)
                SELECT count(*)::integer FROM gone
                """, logger: logger
            ).decode(Int.self) {
                forgotten = count
            }
            let requeued = rescued.filter { $0.retryAt != nil }.count
            let report = RescueReport(
                interruptedAttempts: jobIDs.count, requeuedJobs: requeued, failedJobs: rescued.count - requeued)
            return ((report, !jobIDs.isEmpty || forgotten > 0), rescued.isEmpty ? [] : [.rescued(rescued)])
        }
        return report
    }
}
