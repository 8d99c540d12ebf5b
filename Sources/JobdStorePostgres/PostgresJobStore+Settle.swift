import Foundation
import JobdModel
import JobdStore
import PostgresNIO

extension PostgresJobStore {
    /// The finishes as one array per column, for `unnest` (binary arrays, as the insert's;
    /// an absent value is NaN, -1 or '', turned back into NULL by `NULLIF`: no result, error
    /// code or message is empty, no HTTP status is negative).
    private struct FinishColumns: Sendable {
        var jobIDs: [Int64] = []
        var numbers: [Int] = []
        var attemptIDs: [Int64] = []
        var states: [String] = []
        var outcomes: [String] = []
        var results: [String] = []
        var jobErrorCodes: [String] = []
        var jobErrorMessages: [String] = []
        var jobErrorStatuses: [Int] = []
        var errorCodes: [String] = []
        var errorMessages: [String] = []
        var errorStatuses: [Int] = []
        var finishedAts: [Double] = []
        var runAts: [Double] = []
        var interrupted: [Int] = []
        var endedAts: [Double] = []

        var isEmpty: Bool { jobIDs.isEmpty }

        mutating func append(_ finish: AttemptFinish, now: Date) throws {
            let write = try FinishWrite(end: finish.end, now: finish.endedAt ?? now)
            jobIDs.append(finish.jobID.rawValue)
            numbers.append(finish.attempt.number)
            attemptIDs.append(finish.attempt.attemptID)
            states.append(write.state.rawValue)
            outcomes.append(write.outcome.rawValue)
            results.append(write.resultJSON ?? "")
            jobErrorCodes.append(write.jobError?.code.rawValue ?? "")
            jobErrorMessages.append(write.jobError?.message ?? "")
            jobErrorStatuses.append(write.jobError?.httpStatus ?? -1)
            errorCodes.append(write.attemptError?.code.rawValue ?? "")
            errorMessages.append(write.attemptError?.message ?? "")
            errorStatuses.append(write.attemptError?.httpStatus ?? -1)
            finishedAts.append(write.finishedAt ?? .nan)
            runAts.append(write.runAt ?? .nan)
            interrupted.append(write.interrupted ? 1 : 0)
            endedAts.append(write.now)
        }
    }

    /// Records ended attempts and claims due jobs in one transaction, as
    /// `JobStore.settle(_:)` describes.
    ///
    /// The finishes are one statement: a job row changes only while it runs that attempt
    /// (`state = 'running'`, its attempt number and id) *and* the attempt's node
    /// incarnation still holds its lease, so neither a rescued attempt nor one of a node
    /// that lost its lease is ever written over the job's newer state; the ended attempts'
    /// rows are inserted by the same statement (a running attempt lives on its job's row,
    /// schema version 3). The claim is Oban's and River's: a CTE that picks due rows in
    /// claim order `FOR UPDATE SKIP LOCKED` (nodes claiming together take different rows)
    /// and updates them, in one statement. When a finish ends a job that others wait for
    /// (`after`), its children are settled between the finishes and the claim
    /// (`propagateDependencies`): the ones it releases are claimable by this same claim, and
    /// a round that ends no such job sends no statement more.
    public func settle(_ request: SettleRequest) async throws -> SettleOutcome {
        let finishes = request.finishes
        let claim = request.claim
        guard !finishes.isEmpty || claim.limit > 0 else { return SettleOutcome(recorded: [], claimed: []) }
        var columns = FinishColumns()
        // In ascending job id order: the UPDATE ends its rows in the order it reads f (or
        // the primary key), and the batch trigger locks their `batches` rows in that order.
        // Batches' id ranges never interleave (`drawBatchIDs`), so that is batch id order on
        // every node, and nodes ending jobs of the same batches never deadlock. Should one
        // happen all the same, PostgreSQL aborts one settle (`busy`) and the dispatcher keeps
        // its ends and tries again. What was recorded is matched by id, not by position.
        for finish in finishes.sorted(by: { $0.jobID.rawValue < $1.jobID.rawValue }) {
            try columns.append(finish, now: claim.now)
        }
        let rows = columns
        let node = claim.limit > 0 ? membership.claimingNodeID : nil
        let nodeName = settings.nodeName
        let logger = self.logger
        let recentSpecs = self.recentSpecs
        let rotation = self.fairShareRotation
        let context =
            finishes.count == 1 ? "cannot record the end of job \(finishes[0].jobID)" : "cannot record attempts"
        let raw = try await transaction(finishes.isEmpty ? "cannot claim jobs" : context, operations: 1) { connection in
            try await Self.pinPlans(on: connection, logger: logger)
            // By attempt id and number: a stale finish beside the owning one of the same
            // job in one round is not taken for recorded.
            var recordedAttempts = Set<RecordedAttempt>()
            var parentsEnded = false
            if !rows.isEmpty {
                for try await (attemptID, number, parentEnded) in try await connection.query(
                    """
                    WITH f AS (
                        SELECT job_id, number, attempt_id, state, outcome, NULLIF(result, '') AS result,
                            NULLIF(job_error_code, '') AS job_error_code,
                            NULLIF(job_error_message, '') AS job_error_message,
                            NULLIF(job_error_status, -1) AS job_error_status, NULLIF(error_code, '') AS error_code,
                            NULLIF(error_message, '') AS error_message, NULLIF(error_status, -1) AS error_status,
                            NULLIF(finished_at, 'NaN') AS finished_at, NULLIF(run_at, 'NaN') AS run_at, interrupted,
                            ended_at
                        FROM unnest(\(rows.jobIDs)::bigint[], \(rows.numbers)::integer[], \(rows.attemptIDs)::bigint[],
                            \(rows.states)::text[], \(rows.outcomes)::text[], \(rows.results)::text[],
                            \(rows.jobErrorCodes)::text[], \(rows.jobErrorMessages)::text[],
                            \(rows.jobErrorStatuses)::integer[], \(rows.errorCodes)::text[], \(rows.errorMessages)::text[],
                            \(rows.errorStatuses)::integer[], \(rows.finishedAts)::double precision[],
                            \(rows.runAts)::double precision[], \(rows.interrupted)::integer[],
                            \(rows.endedAts)::double precision[])
                            AS u(job_id, number, attempt_id, state, outcome, result, job_error_code, job_error_message,
                                job_error_status, error_code, error_message, error_status, finished_at, run_at,
                                interrupted, ended_at)
                    ), done AS (
                        UPDATE jobs j SET state = f.state, result = f.result, error_code = f.job_error_code,
                            error_message = f.job_error_message, error_http_status = f.job_error_status,
                            finished_at = to_timestamp(f.finished_at), updated_at = to_timestamp(f.ended_at),
                            run_at = coalesce(to_timestamp(f.run_at), j.run_at),
                            interrupted_count = j.interrupted_count + f.interrupted, attempt_id = NULL
                        FROM f
                        -- The rows by key (id = ANY: the planner knows how many), fenced by the
                        -- attempt id, which is set exactly while the job runs (the jobs_attempt
                        -- CHECK). No `state = 'running'` here: with no statistics its default
                        -- selectivity made the planner read every running job through
                        -- jobs_running and join them with f: 9,728 rows for a finish of 512 in
                        -- W2, then 262,144 comparisons in a nested loop (docs/decisions.md).
                        WHERE j.id = ANY(\(rows.jobIDs)::bigint[]) AND j.id = f.job_id
                            AND j.attempt_id = f.attempt_id AND j.attempt_count = f.number
                            AND EXISTS (SELECT 1 FROM nodes n WHERE n.id = j.node_id AND n.lease_until > now())
                        RETURNING f.attempt_id, j.id, f.number, j.node_id, j.node_name, j.started_at,
                            to_timestamp(f.ended_at) AS ended_at, f.outcome, f.error_code, f.error_message,
                            f.error_status,
                            j.has_children AND f.state IN ('succeeded', 'failed', 'cancelled') AS parent_ended
                    ), ended AS (
                        -- Straight from the UPDATE's RETURNING: no second join of f and done.
                        INSERT INTO attempts (id, job_id, number, node_id, node_name, started_at, finished_at,
                            outcome, error_code, error_message, error_http_status)
                        SELECT attempt_id, id, number, node_id, node_name, started_at, ended_at, outcome, error_code,
                            error_message, error_status
                        FROM done
                    )
                    SELECT attempt_id, number, parent_ended FROM done
                    """, logger: logger
                ).decode((Int64, Int, Bool).self) {
                    recordedAttempts.insert(RecordedAttempt(id: attemptID, number: number))
                    parentsEnded = parentsEnded || parentEnded
                }
            }
            let recorded = finishes.map {
                recordedAttempts.contains(RecordedAttempt(id: $0.attempt.attemptID, number: $0.attempt.number))
            }
            // Between the finishes and the claim, and only when a job that others wait for
            // ended (no statement more for the rest): the children these ends release are
            // claimable in this same round, so a chain of jobs costs one round per link.
            let transitions =
                parentsEnded ? try await Self.propagateDependencies(on: connection, logger: logger) : []
            var claimed: [ClaimedJob] = []
            var nextRunAt: Date?
            if let node {
                // The claim's instant after the finishes and the release (`ClaimRequest.stamped`).
                let claim = claim.stamped()
                claimed =
                    claim.fairShare == .perUID
                    ? try await Self.fairShareClaim(
                        claim, node: node, nodeName: nodeName, rotation: rotation, recentSpecs: recentSpecs,
                        on: connection, logger: logger)
                    : try await Self.claim(
                        claim, node: node, nodeName: nodeName, recentSpecs: recentSpecs, on: connection,
                        logger: logger)
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
            if !transitions.isEmpty { changes.append(.dependencies(transitions)) }
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

    /// Keeps the settle's (and the rescue's) statements on their indexes for the rest of the transaction,
    /// whatever the table's statistics say.
    ///
    /// A queue table's statistics are nearly always wrong: a new table has none (the
    /// planner guesses a handful of rows), and a long-lived one was last analyzed at some
    /// other queue depth. An underestimate makes a bitmap scan of every queued row and a
    /// sort look cheaper than walking `jobs_queue` in order to the `LIMIT`: measured on a
    /// fresh table with 10,000 queued jobs, 10.8 ms per claim of 63 jobs against 0.17 ms
    /// (docs/decisions.md, "PostgreSQL: plans pinned for the settle"). Sequential and
    /// bitmap scans are only made expensive (`set_config(…, true)` is `SET LOCAL`), so a
    /// statement that has no index path still runs.
    static func pinPlans(on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            "SELECT set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true)",
            logger: logger)
    }

    /// Claims up to `claim.limit` due jobs for `node`, in claim order.
    static func claim(
        _ claim: ClaimRequest, node: Int64, nodeName: String, recentSpecs: RecentSpecs,
        on connection: PostgresConnection, logger: Logger
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
            )
            UPDATE jobs j SET state = 'running', attempt_count = j.attempt_count + 1, updated_at = \(now),
                attempt_id = nextval('attempts_id_seq'), node_id = \(node), node_name = \(nodeName), started_at = \(now)
            FROM picked WHERE j.id = picked.id
            RETURNING j.id, j.attempt_id, j.spec, j.attempt_count, j.interrupted_count, j.max_attempts, j.timeout,
                j.priority, j.run_at, j.host, j.submitter_uid
            """, logger: logger)
        var picked: [ClaimedRow] = []
        for try await row in rows.decode(ClaimedRow.self) {
            picked.append(row)
        }
        // RETURNING keeps no order: the claim order is restored here.
        return try claimedJobs(picked, recentSpecs: recentSpecs).sorted { a, b in
            if a.priority != b.priority { return a.priority > b.priority }
            if a.runAt != b.runAt { return a.runAt < b.runAt }
            return a.id.rawValue < b.id.rawValue
        }
    }

    /// The columns a claim's `RETURNING` gives, in order: id, attempt id, spec, attempt
    /// count, interrupted count, max attempts, timeout, priority, run_at, host, submitter.
    typealias ClaimedRow = (Int64, Int64, String, Int, Int, Int, Double?, Int, Date, String?, Int64?)

    /// The claimed jobs of `picked`, in its order, their specs from `recentSpecs` or decoded.
    static func claimedJobs(_ picked: [ClaimedRow], recentSpecs: RecentSpecs) throws -> [ClaimedJob] {
        let kept = picked.isEmpty ? [:] : recentSpecs.take(picked.map(\.0))
        let decoder = JSONCoding.makeDecoder()
        var claimed: [ClaimedJob] = []
        claimed.reserveCapacity(picked.count)
        for (id, attemptID, specText, count, interrupted, maxAttempts, timeout, priority, runAt, host, uid) in picked {
            let spec: JobSpec
            if let known = kept[id] ?? SubmitFastPath.spec(specText) {
                spec = known
            } else {
                do {
                    spec = try decoder.decode(JobSpec.self, from: Data(specText.utf8))
                } catch {
                    throw StoreError(.badData, "job \(id) has a spec that does not decode: \(error)")
                }
            }
            claimed.append(
                ClaimedJob(
                    id: JobID(id), attemptID: attemptID, attemptNumber: count, attemptsUsed: count - interrupted,
                    maxAttempts: maxAttempts, timeout: timeout, priority: priority, host: host, runAt: runAt,
                    spec: spec, submitterUID: uid.map { UInt32(truncatingIfNeeded: $0) }))
        }
        return claimed
    }
}

/// An attempt a settle recorded: its id and number, as the finish named them.
private struct RecordedAttempt: Hashable {
    var id: Int64
    var number: Int
}
