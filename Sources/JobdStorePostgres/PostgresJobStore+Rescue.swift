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
    /// them rescue each attempt.
    public func rescue(now: Date) async throws -> RescueReport {
        let logger = self.logger
        let message = "the node running this attempt stopped renewing its lease"
        let maxInterruptions = RescueReport.maxInterruptions
        return try await transaction("cannot rescue the attempts of dead nodes") { connection in
            var attemptIDs: [Int64] = []
            var jobIDs: [Int64] = []
            for try await (attemptID, jobID) in try await connection.query(
                """
                SELECT a.id, j.id FROM attempts a JOIN jobs j ON j.id = a.job_id
                WHERE a.outcome = 'running' AND j.state = 'running' AND j.attempt_count = a.number
                    AND NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = a.node_id AND n.lease_until > now())
                ORDER BY j.id
                FOR UPDATE OF j SKIP LOCKED
                """, logger: logger
            ).decode((Int64, Int64).self) {
                attemptIDs.append(attemptID)
                jobIDs.append(jobID)
            }
            var rescued: [FinishedAttempt] = []
            if !attemptIDs.isEmpty {
                try await connection.query(
                    """
                    UPDATE attempts SET outcome = 'interrupted', finished_at = \(now), error_code = 'interrupted',
                        error_message = \(message)
                    WHERE id = ANY(\(attemptIDs)::bigint[])
                    """, logger: logger)
                for try await (id, state, number, uid) in try await connection.query(
                    """
                    UPDATE jobs SET interrupted_count = interrupted_count + 1, updated_at = \(now),
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
            try await connection.query(
                """
                DELETE FROM nodes n WHERE n.lease_until < now() - interval '1 hour'
                    AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.node_id = n.id AND a.outcome = 'running')
                """, logger: logger)
            let requeued = rescued.filter { $0.retryAt != nil }.count
            let report = RescueReport(
                interruptedAttempts: attemptIDs.count, requeuedJobs: requeued, failedJobs: rescued.count - requeued)
            return (report, rescued.isEmpty ? [] : [.rescued(rescued)])
        }
    }
}
