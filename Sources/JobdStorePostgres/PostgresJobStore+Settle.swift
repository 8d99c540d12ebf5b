import Foundation
import JobdModel
import JobdStore
import PostgresNIO

extension PostgresJobStore {
    /// One finish for `jsonb_to_recordset`.
    private struct FinishRow: Encodable {
        var job_id: Int64
        var number: Int
        var attempt_id: Int64
        var state: String
        var outcome: String
        var result: String?
        var job_error_code: String?
        var job_error_message: String?
        var job_error_status: Int?
        var error_code: String?
        var error_message: String?
        var error_status: Int?
        var finished_at: Double?
        var run_at: Double?
        var interrupted: Int
        var ended_at: Double
    }

    /// Records ended attempts and claims due jobs in one transaction, as
    /// `JobStore.settle(_:)` describes.
    ///
    /// The finishes are one statement: a job row changes only while it runs that attempt
    /// (`state = 'running' AND attempt_count = number`) *and* the attempt's node
    /// incarnation still holds its lease, so neither a rescued attempt nor one of a node
    /// that lost its lease is ever written over the job's newer state. The claim is
    /// Oban's and River's: a CTE that picks due rows in claim order `FOR UPDATE SKIP
    /// LOCKED` (nodes claiming together take different rows), updates them, and inserts
    /// their attempts, in one statement.
    public func settle(_ request: SettleRequest) async throws -> SettleOutcome {
        let finishes = request.finishes
        let claim = request.claim
        guard !finishes.isEmpty || claim.limit > 0 else { return SettleOutcome(recorded: [], claimed: []) }
        let rows = try finishes.map { try Self.finishRow($0, now: claim.now) }
        let node = claim.limit > 0 ? membership.claimingNodeID : nil
        let nodeName = settings.nodeName
        let logger = self.logger
        let context =
            finishes.count == 1 ? "cannot record the end of job \(finishes[0].jobID)" : "cannot record attempts"
        let raw = try await transaction(finishes.isEmpty ? "cannot claim jobs" : context, operations: 1) { connection in
            var recordedIDs = Set<Int64>()
            if !rows.isEmpty {
                let payload = String(decoding: try JSONEncoder().encode(rows), as: UTF8.self)
                for try await id in try await connection.query(
                    """
                    WITH f AS (
                        SELECT * FROM jsonb_to_recordset(\(payload)::jsonb) AS f(job_id bigint, number integer,
                            attempt_id bigint, state text, outcome text, result text, job_error_code text,
                            job_error_message text, job_error_status integer, error_code text, error_message text,
                            error_status integer, finished_at double precision, run_at double precision,
                            interrupted integer, ended_at double precision)
                    ), done AS (
                        UPDATE jobs j SET state = f.state, result = f.result, error_code = f.job_error_code,
                            error_message = f.job_error_message, error_http_status = f.job_error_status,
                            finished_at = to_timestamp(f.finished_at), updated_at = to_timestamp(f.ended_at),
                            run_at = coalesce(to_timestamp(f.run_at), j.run_at),
                            interrupted_count = j.interrupted_count + f.interrupted
                        FROM f, attempts a
                        WHERE j.id = f.job_id AND j.state = 'running' AND j.attempt_count = f.number
                            AND a.id = f.attempt_id AND a.job_id = f.job_id
                            AND EXISTS (SELECT 1 FROM nodes n WHERE n.id = a.node_id AND n.lease_until > now())
                        RETURNING j.id
                    )
                    UPDATE attempts a SET finished_at = to_timestamp(f.ended_at), outcome = f.outcome,
                        error_code = f.error_code, error_message = f.error_message, error_http_status = f.error_status
                    FROM f JOIN done ON done.id = f.job_id
                    WHERE a.id = f.attempt_id
                    RETURNING a.job_id
                    """, logger: logger
                ).decode(Int64.self) {
                    recordedIDs.insert(id)
                }
            }
            let recorded = finishes.map { recordedIDs.contains($0.jobID.rawValue) }
            var claimed: [ClaimedJob] = []
            var nextRunAt: Date?
            if let node {
                claimed = try await Self.claim(claim, node: node, nodeName: nodeName, on: connection, logger: logger)
                if claimed.count < claim.limit {
                    for try await next in try await connection.query(
                        "SELECT min(run_at) FROM jobs WHERE state = 'queued' AND run_at > \(claim.now)", logger: logger
                    ).decode(Date?.self) {
                        nextRunAt = next
                    }
                }
            }
            var changes = zip(finishes, recorded).compactMap { finish, wasRecorded in
                wasRecorded ? StoreChange.finished(FinishedAttempt(finish)) : nil
            }
            // For the other nodes' events; this node publishes its own as it admits them.
            if !claimed.isEmpty {
                changes.append(
                    .started(
                        claimed.map {
                            StartedAttempt(jobID: $0.id, attemptNumber: $0.attemptNumber, submitterUID: $0.submitterUID)
                        }))
            }
            return (SettleOutcome(recorded: recorded, claimed: claimed, nextRunAt: nextRunAt), changes)
        }
        return raw
    }

    /// Claims up to `claim.limit` due jobs for `node`, in claim order.
    private static func claim(
        _ claim: ClaimRequest, node: Int64, nodeName: String, on connection: PostgresConnection, logger: Logger
    ) async throws -> [ClaimedJob] {
        let kinds = claim.excludingKinds.map(\.rawValue)
        let hosts = Array(claim.excludingHosts)
        let now = claim.now
        let rows = try await connection.query(
            """
            WITH picked AS (
                SELECT id FROM jobs
                WHERE state = 'queued' AND run_at <= \(now)
                    AND NOT (kind = ANY(\(kinds)::text[])) AND (host IS NULL OR NOT (host = ANY(\(hosts)::text[])))
                    AND EXISTS (SELECT 1 FROM nodes WHERE id = \(node) AND lease_until > now())
                ORDER BY priority DESC, run_at, id
                LIMIT \(claim.limit)
                FOR UPDATE SKIP LOCKED
            ), claimed AS (
                UPDATE jobs j SET state = 'running', attempt_count = j.attempt_count + 1, updated_at = \(now)
                FROM picked WHERE j.id = picked.id
                RETURNING j.id, j.spec, j.attempt_count, j.interrupted_count, j.max_attempts, j.timeout, j.priority,
                    j.run_at, j.host, j.submitter_uid
            ), started AS (
                INSERT INTO attempts (job_id, number, node_id, node_name, started_at, outcome)
                SELECT id, attempt_count, \(node), \(nodeName), \(now), 'running' FROM claimed
                RETURNING id, job_id
            )
            SELECT c.id, s.id, c.spec, c.attempt_count, c.interrupted_count, c.max_attempts, c.timeout, c.priority,
                c.run_at, c.host, c.submitter_uid
            FROM claimed c JOIN started s ON s.job_id = c.id
            ORDER BY c.priority DESC, c.run_at, c.id
            """, logger: logger)
        let decoder = JSONCoding.makeDecoder()
        var claimed: [ClaimedJob] = []
        for try await (id, attemptID, specText, count, interrupted, maxAttempts, timeout, priority, runAt, host, uid)
            in rows.decode((Int64, Int64, String, Int, Int, Int, Double?, Int, Date, String?, Int64?).self)
        {
            let spec: JobSpec
            do {
                spec = try decoder.decode(JobSpec.self, from: Data(specText.utf8))
            } catch {
                throw StoreError(.badData, "job \(id) has a spec that does not decode: \(error)")
            }
            claimed.append(
                ClaimedJob(
                    id: JobID(id), attemptID: attemptID, attemptNumber: count, attemptsUsed: count - interrupted,
                    maxAttempts: maxAttempts, timeout: timeout, priority: priority, host: host, runAt: runAt,
                    spec: spec, submitterUID: uid.map { UInt32(truncatingIfNeeded: $0) }))
        }
        return claimed
    }

    /// The row values of a finish.
    private static func finishRow(_ finish: AttemptFinish, now: Date) throws -> FinishRow {
        let write = try FinishWrite(end: finish.end, now: finish.endedAt ?? now)
        return FinishRow(
            job_id: finish.jobID.rawValue, number: finish.attempt.number, attempt_id: finish.attempt.attemptID,
            state: write.state.rawValue, outcome: write.outcome.rawValue, result: write.resultJSON,
            job_error_code: write.jobError?.code.rawValue, job_error_message: write.jobError?.message,
            job_error_status: write.jobError?.httpStatus, error_code: write.attemptError?.code.rawValue,
            error_message: write.attemptError?.message, error_status: write.attemptError?.httpStatus,
            finished_at: write.finishedAt, run_at: write.runAt, interrupted: write.interrupted ? 1 : 0,
            ended_at: write.now)
    }
}
