import Foundation
import GRDB
import JobdModel

extension JobStore {
    /// How many times an `on_interrupt: retry` job may be interrupted before it fails
    /// with `interrupted`: a job that crashes the daemon every time must not loop forever.
    public static let maxInterruptions = 10

    /// Stores new jobs, all in one transaction, and returns after the commit.
    ///
    /// A job whose idempotency `key` is already taken is not stored again: its outcome
    /// names the existing job with `created == false`.
    ///
    /// With `maxQueued`, the insert is refused whole when the jobs it would create bring
    /// the number of queued jobs over the cap.
    ///
    /// A key taken by a job of another submitter (another uid, or none) is refused.
    ///
    /// - Returns: One outcome per job, in order.
    /// - Throws: `StoreError` `queue_full`, `key_taken`, or `disk_full`, `busy`, …; then
    ///   nothing of the batch is stored.
    /// `afterCommit` runs right after the commit, before any later write (a claim of these
    /// jobs included): announce them there to keep events in order.
    public func insert(
        _ jobs: [NewJob], maxQueued: Int? = nil, now: Date = Date(),
        afterCommit: (@Sendable ([InsertOutcome]) -> Void)? = nil
    ) async throws -> [InsertOutcome] {
        // Encode outside the writer: the writer thread is the bottleneck, JSON is not SQL.
        // A large batch is tens of milliseconds of CPU: off the cooperative pool, so the
        // API's other requests do not wait behind it (docs/benchmarks.md, W4).
        let rows: [(NewJob, String, String?)] = try await Self.offPoolIfLarge(jobs.count) {
            let encoder = JSONCoding.makeEncoder()
            return try jobs.map { job in
                let host: String? =
                    if case .fetch(let fetch) = job.spec.payload { fetch.hostKey } else { nil }
                return (job, String(decoding: try encoder.encode(job.spec), as: UTF8.self), host)
            }
        }
        let nowSeconds = now.timeIntervalSince1970
        let recentSpecs = self.recentSpecs
        let specs = jobs.map(\.spec)
        // Kept on the writer right after the commit, before any later transaction can claim
        // these jobs (never before it: a rolled-back insert's ids are used again).
        let keepThenAnnounce: @Sendable ([InsertOutcome]) -> Void = { outcomes in
            recentSpecs.keep(
                zip(outcomes, specs).compactMap { outcome, spec in outcome.created ? (outcome.id.rawValue, spec) : nil }
            )
            afterCommit?(outcomes)
        }
        return try await write("cannot store the jobs", afterCommit: keepThenAnnounce) { db in
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO jobs (kind, spec, state, priority, run_at, created_at, updated_at,
                        max_attempts, timeout, on_interrupt, idempotency_key, submitter_uid, host)
                    VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            var queuedBefore = 0
            if let maxQueued {
                // Counting stops past the cap: the answer is only "room for n more".
                queuedBefore =
                    try Int.fetchOne(
                        db.cachedStatement(
                            sql: "SELECT count(*) FROM (SELECT 1 FROM jobs WHERE state = 'queued' LIMIT ?)"),
                        arguments: [maxQueued + 1]) ?? 0
            }
            var outcomes: [InsertOutcome] = []
            outcomes.reserveCapacity(rows.count)
            var created = 0
            for (job, specJSON, host) in rows {
                if let key = job.spec.key,
                    let existing = try Row.fetchOne(
                        db.cachedStatement(sql: "SELECT id, submitter_uid FROM jobs WHERE idempotency_key = ?"),
                        arguments: [key])
                {
                    // A key names a job of its submitter only: answering another user's job
                    // would show it to someone who may not see it.
                    let owner: Int64? = existing["submitter_uid"]
                    guard owner == job.submitterUID.map({ Int64($0) }) else {
                        throw StoreError(
                            .keyTaken, "the key \(key.debugDescription) belongs to a job of another user")
                    }
                    outcomes.append(InsertOutcome(id: JobID(existing["id"] as Int64), created: false))
                    continue
                }
                try insert.execute(arguments: [
                    job.spec.kind.rawValue, specJSON, job.priority, job.runAt.timeIntervalSince1970,
                    nowSeconds, nowSeconds, job.maxAttempts, job.timeout, job.onInterrupt.rawValue,
                    job.spec.key, job.submitterUID.map { Int64($0) }, host,
                ])
                outcomes.append(InsertOutcome(id: JobID(db.lastInsertedRowID), created: true))
                created += 1
            }
            if let maxQueued, queuedBefore + created > maxQueued {
                // Thrown inside the savepoint: every row of this insert is rolled back.
                throw StoreError(
                    .queueFull,
                    "the queue holds \(queuedBefore) of at most \(maxQueued) jobs; \(created) more do not fit")
            }
            return outcomes
        }
    }

    /// Claims up to `limit` due jobs, highest priority first, then earliest `run_at`, then id.
    ///
    /// Each claimed job moves to `running` with a new attempt row, whose id is the
    /// fencing token that `finish` must present.
    ///
    /// Jobs of `excludingKinds` and fetches to `excludingHosts` (their limits are
    /// reached) stay queued, and jobs behind them are claimed instead.
    ///
    /// - Returns: The claimed jobs in claim order (possibly none).
    /// - Throws: `StoreError`.
    public func claimReady(
        limit: Int, excludingKinds: Set<JobKind> = [], excludingHosts: Set<String> = [], now: Date = Date()
    ) async throws -> [ClaimedJob] {
        try await settle(
            [], claimLimit: limit, excludingKinds: excludingKinds, excludingHosts: excludingHosts, now: now
        )
        .claimed
    }

    /// Records how an attempt ended, if that attempt still owns its job.
    ///
    /// The attempt id is a fencing token: when the job has moved on (it was cancelled
    /// while queued for a retry, or recovered after a crash), nothing is written.
    ///
    /// - Returns: True when the end was recorded; false when the attempt was fenced out.
    /// - Throws: `StoreError`.
    ///
    /// `afterCommit` gets whether it was recorded, before any later write sees the change.
    public func finish(
        _ jobID: JobID, attemptID: Int64, end: AttemptEnd, now: Date = Date(),
        afterCommit: (@Sendable (Bool) -> Void)? = nil
    ) async throws -> Bool {
        var hook: (@Sendable ([Bool]) -> Void)?
        if let afterCommit {
            hook = { recorded in afterCommit(recorded[0]) }
        }
        let outcome = try await settle(
            [AttemptFinish(jobID: jobID, attemptID: attemptID, end: end)], claimLimit: 0, now: now,
            afterCommit: hook)
        return outcome.recorded[0]
    }

    /// Records finished attempts and claims due jobs, in one operation of one transaction:
    /// the dispatcher's whole round trip to the database.
    ///
    /// Finishes come first, so the slots they free and the jobs they re-queue for an
    /// immediate retry are visible to the claim. Each finish is fenced by its attempt id
    /// as in `finish`; the claim is that of `claimReady`. When the claim takes fewer than
    /// `claimLimit` jobs, the outcome also carries the earliest future `run_at` (read in the
    /// same transaction, so a job due in between is either claimed or timed, never missed).
    ///
    /// If anything fails, nothing of it is stored: the caller keeps the finishes and tries
    /// again.
    ///
    /// - Parameters:
    ///   - finishes: Attempt ends to record, in order.
    ///   - claimLimit: Jobs to claim at most; 0 claims nothing.
    ///   - afterCommit: Gets one "recorded" flag per finish right after the commit.
    /// - Throws: `StoreError`.
    public func settle(
        _ finishes: [AttemptFinish], claimLimit: Int, excludingKinds: Set<JobKind> = [],
        excludingHosts: Set<String> = [], now: Date = Date(), afterCommit: (@Sendable ([Bool]) -> Void)? = nil
    ) async throws -> SettleOutcome {
        guard !finishes.isEmpty || claimLimit > 0 else { return SettleOutcome(recorded: [], claimed: []) }
        // JSON and column values are made here, off the writer thread.
        let writes = try finishes.map { finish in
            (
                jobID: finish.jobID.rawValue, attemptID: finish.attemptID,
                write: try FinishWrite(end: finish.end, now: finish.endedAt ?? now)
            )
        }
        let claim = ClaimQuery(
            limit: claimLimit, excludingKinds: excludingKinds, excludingHosts: excludingHosts, now: now)
        let context =
            finishes.count == 1 ? "cannot record the end of job \(finishes[0].jobID)" : "cannot record attempts"
        var hook: (@Sendable (RawSettle) -> Void)?
        if let afterCommit {
            hook = { raw in afterCommit(raw.recorded) }
        }
        let raw = try await write(claimLimit > 0 && finishes.isEmpty ? "cannot claim jobs" : context, afterCommit: hook)
        { db in
            var recorded: [Bool] = []
            recorded.reserveCapacity(writes.count)
            for finish in writes {
                recorded.append(try Self.finish(finish.jobID, attemptID: finish.attemptID, write: finish.write, in: db))
            }
            let (rows, nextRunAt) = try claim.run(in: db)
            return RawSettle(recorded: recorded, rows: rows, nextRunAt: nextRunAt)
        }
        let decoder = JSONCoding.makeDecoder()
        let kept = raw.rows.isEmpty ? [:] : recentSpecs.take(raw.rows.map(\.row.id))
        let claimed = try raw.rows.map { row, attemptID in
            let spec: JobSpec
            if let known = kept[row.id] {
                spec = known
            } else {
                do {
                    spec = try decoder.decode(JobSpec.self, from: Data(row.spec.utf8))
                } catch {
                    throw StoreError(.badData, "job \(row.id) has a spec that does not decode: \(error)")
                }
            }
            return ClaimedJob(
                id: JobID(row.id), attemptID: attemptID, attemptNumber: row.attemptCount,
                attemptsUsed: row.attemptCount - row.interruptedCount, maxAttempts: row.maxAttempts,
                timeout: row.timeout, priority: row.priority, host: row.host,
                runAt: Date(timeIntervalSince1970: row.runAt), spec: spec,
                submitterUID: row.submitterUID.map { UInt32(truncatingIfNeeded: $0) })
        }
        return SettleOutcome(
            recorded: raw.recorded, claimed: claimed, nextRunAt: raw.nextRunAt.map(Date.init(timeIntervalSince1970:)))
    }

    /// One fenced finish inside the caller's transaction.
    private static func finish(_ jobID: Int64, attemptID: Int64, write: FinishWrite, in db: Database) throws -> Bool {
        let updateJob = try db.cachedStatement(
            sql: """
                UPDATE jobs SET state = ?, result = ?, error_code = ?, error_message = ?,
                    error_http_status = ?, finished_at = ?, updated_at = ?, run_at = coalesce(?, run_at),
                    interrupted_count = interrupted_count + ?
                WHERE id = ? AND state = 'running'
                    AND attempt_count = (SELECT number FROM attempts WHERE id = ? AND job_id = ?)
                """)
        try updateJob.execute(arguments: [
            write.state.rawValue, write.resultJSON, write.jobError?.code.rawValue, write.jobError?.message,
            write.jobError?.httpStatus, write.finishedAt, write.now, write.runAt, write.interrupted ? 1 : 0,
            jobID, attemptID, jobID,
        ])
        guard db.changesCount == 1 else { return false }
        let updateAttempt = try db.cachedStatement(
            sql: """
                UPDATE attempts SET finished_at = ?, outcome = ?, error_code = ?, error_message = ?,
                    error_http_status = ?
                WHERE id = ?
                """)
        try updateAttempt.execute(arguments: [
            write.now, write.outcome.rawValue, write.attemptError?.code.rawValue, write.attemptError?.message,
            write.attemptError?.httpStatus, attemptID,
        ])
        return true
    }

    /// Cancels a queued job at once, or reports the running attempt the runtime must stop.
    ///
    /// - Returns: What the job's state called for.
    /// - Throws: `StoreError`.
    public func cancel(
        _ jobID: JobID, now: Date = Date(), afterCommit: (@Sendable (CancelOutcome) -> Void)? = nil
    ) async throws -> CancelOutcome {
        let nowSeconds = now.timeIntervalSince1970
        return try await write("cannot cancel job \(jobID)", afterCommit: afterCommit) { db in
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT state, (SELECT max(id) FROM attempts WHERE job_id = jobs.id) AS attempt_id
                            FROM jobs WHERE id = ?
                            """),
                    arguments: [jobID.rawValue])
            else { return .notFound }
            let stateText: String = row["state"]
            guard let state = JobState(rawValue: stateText) else {
                throw StoreError(.badData, "job \(jobID) has an unknown state \(stateText)")
            }
            switch state {
            case .queued:
                try db.cachedStatement(
                    sql: """
                        UPDATE jobs SET state = 'cancelled', error_code = 'cancelled', error_message = ?,
                            finished_at = ?, updated_at = ?
                        WHERE id = ?
                        """
                ).execute(arguments: ["cancelled while queued", nowSeconds, nowSeconds, jobID.rawValue])
                return .cancelled
            case .running:
                let attemptID: Int64? = row["attempt_id"]
                guard let attemptID else {
                    throw StoreError(.badData, "job \(jobID) is running without an attempt")
                }
                return .running(attemptID: attemptID)
            case .succeeded, .failed, .cancelled:
                return .alreadyTerminal(state)
            }
        }
    }

    /// Puts claimed jobs back to `queued` as if they had never been claimed: their attempt
    /// rows are deleted (they never ran) and their attempt counts restored.
    ///
    /// The dispatcher releases jobs a claim returned beyond a per-kind or per-host limit.
    ///
    /// - Throws: `StoreError`.
    public func release(_ jobs: [(id: JobID, attemptID: Int64)], now: Date = Date()) async throws {
        guard !jobs.isEmpty else { return }
        let nowSeconds = now.timeIntervalSince1970
        let pairs = jobs.map { ($0.id.rawValue, $0.attemptID) }
        try await write("cannot release claimed jobs") { db in
            let requeue = try db.cachedStatement(
                sql: """
                    UPDATE jobs SET state = 'queued', attempt_count = attempt_count - 1, updated_at = ?
                    WHERE id = ? AND state = 'running'
                        AND attempt_count = (SELECT number FROM attempts WHERE id = ? AND job_id = ?)
                    """)
            let delete = try db.cachedStatement(sql: "DELETE FROM attempts WHERE id = ?")
            for (jobID, attemptID) in pairs {
                try requeue.execute(arguments: [nowSeconds, jobID, attemptID, jobID])
                if db.changesCount == 1 { try delete.execute(arguments: [attemptID]) }
            }
        }
    }

    /// Queues a finished job again, with a fresh attempt budget.
    ///
    /// The budget is the spec's `max_attempts` (else `defaultMaxAttempts`) on top of the
    /// attempts already used; earlier attempts stay in the record.
    ///
    /// - Throws: `StoreError`.
    public func retry(
        _ jobID: JobID, defaultMaxAttempts: Int, now: Date = Date(),
        afterCommit: (@Sendable (RetryOutcome) -> Void)? = nil
    ) async throws -> RetryOutcome {
        let nowSeconds = now.timeIntervalSince1970
        return try await write("cannot retry job \(jobID)", afterCommit: afterCommit) { db in
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(
                        sql: "SELECT state, spec, attempt_count, interrupted_count FROM jobs WHERE id = ?"),
                    arguments: [jobID.rawValue])
            else { return .notFound }
            let stateText: String = row["state"]
            guard let state = JobState(rawValue: stateText) else {
                throw StoreError(.badData, "job \(jobID) has an unknown state \(stateText)")
            }
            guard state.isTerminal else { return .notFinished(state) }
            let specText: String = row["spec"]
            let spec = try? JSONCoding.makeDecoder().decode(JobSpec.self, from: Data(specText.utf8))
            let used = (row["attempt_count"] as Int) - (row["interrupted_count"] as Int)
            let budget = spec?.maxAttempts ?? defaultMaxAttempts
            try db.cachedStatement(
                sql: """
                    UPDATE jobs SET state = 'queued', run_at = ?, updated_at = ?, finished_at = NULL, result = NULL,
                        error_code = NULL, error_message = NULL, error_http_status = NULL, max_attempts = ?
                    WHERE id = ?
                    """
            ).execute(arguments: [nowSeconds, nowSeconds, used + budget, jobID.rawValue])
            return .requeued
        }
    }

    /// Deletes up to `limit` finished jobs (and their attempts) that finished before `cutoff`.
    ///
    /// Small batches keep each transaction short, so pruning never stalls submits.
    ///
    /// - Returns: How many jobs were deleted.
    /// - Throws: `StoreError`.
    public func prune(finishedBefore cutoff: Date, limit: Int = 1000) async throws -> Int {
        let cutoffSeconds = cutoff.timeIntervalSince1970
        return try await write("cannot prune finished jobs") { db in
            try db.cachedStatement(
                sql: """
                    DELETE FROM jobs WHERE id IN (
                        SELECT id FROM jobs WHERE finished_at IS NOT NULL AND finished_at < ?
                            AND state IN ('succeeded', 'failed', 'cancelled')
                        LIMIT ?)
                    """
            ).execute(arguments: [cutoffSeconds, limit])
            return db.changesCount
        }
    }

    /// Runs `work` on a global dispatch queue when `count` is above 256, else in place.
    ///
    /// CPU-bound work that takes milliseconds (encoding a 10,000-job batch) would hold one
    /// of the cooperative pool's few threads (two on the bench machine) for all that time.
    static func offPoolIfLarge<T: Sendable>(
        _ count: Int, _ work: @escaping @Sendable () throws -> T
    ) async throws -> T {
        guard count > 256 else { return try work() }
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(with: Result { try work() })
            }
        }
    }

    static func jsonArray(_ values: [String]) -> String {
        let data = (try? JSONEncoder().encode(values)) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// Start-up recovery: every attempt a crash left `running` becomes `interrupted`.
    ///
    /// Its job goes back to `queued` (policy `retry`, fewer than `maxInterruptions`
    /// interruptions) or ends `failed` with `interrupted` (policy `fail`, or too many).
    /// An interrupted attempt does not use up one of `max_attempts`.
    ///
    /// - Important: Call it once, before the dispatcher starts: it assumes no attempt of
    ///   this process is running.
    /// - Throws: `StoreError`.
    public func recoverInterrupted(now: Date = Date()) async throws -> RecoveryReport {
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
                    """, arguments: [nowSeconds, Self.maxInterruptions])
            let requeued = db.changesCount
            try db.execute(
                sql: """
                    UPDATE jobs SET state = 'failed', interrupted_count = interrupted_count + 1,
                        current_attempt_id = NULL, error_code = 'interrupted', error_message = ?,
                        finished_at = ?, updated_at = ?
                    WHERE state = 'running'
                    """, arguments: [message, nowSeconds, nowSeconds])
            return RecoveryReport(interruptedAttempts: attempts, requeuedJobs: requeued, failedJobs: db.changesCount)
        }
    }
}

/// A claim, run inside the caller's transaction.
struct ClaimQuery: Sendable {
    var limit: Int
    var excludingKinds: Set<JobKind>
    var excludingHosts: Set<String>
    var now: Date

    /// Claims the first `limit` due jobs in claim order (arguments: now, now, limit).
    static let claimSQL = """
        UPDATE jobs SET state = 'running', attempt_count = attempt_count + 1, updated_at = ?
        WHERE id IN (
            SELECT id FROM jobs INDEXED BY jobs_queue WHERE state = 'queued' AND run_at <= ?
            ORDER BY priority DESC, run_at, id LIMIT ?)
        RETURNING id, spec, attempt_count, interrupted_count, max_attempts, timeout, priority, run_at, host,
            submitter_uid
        """

    /// `claimSQL` skipping kinds and hosts at their limits (arguments: now, now, kinds as
    /// a JSON array, hosts as a JSON array, limit).
    static let claimExcludingSQL = """
        UPDATE jobs SET state = 'running', attempt_count = attempt_count + 1, updated_at = ?
        WHERE id IN (
            SELECT id FROM jobs INDEXED BY jobs_queue WHERE state = 'queued' AND run_at <= ?
                AND kind NOT IN (SELECT value FROM json_each(?))
                AND (host IS NULL OR host NOT IN (SELECT value FROM json_each(?)))
            ORDER BY priority DESC, run_at, id LIMIT ?)
        RETURNING id, spec, attempt_count, interrupted_count, max_attempts, timeout, priority, run_at, host,
            submitter_uid
        """

    /// The claimed rows with their new attempt ids, and (when fewer than `limit` were
    /// claimed) the earliest future `run_at`.
    func run(in db: Database) throws -> (rows: [(row: ClaimRow, attemptID: Int64)], nextRunAt: Double?) {
        guard limit > 0 else { return ([], nil) }
        let nowSeconds = now.timeIntervalSince1970
        // Anything due at all? A walk of jobs_queue (priority first) cannot stop at the
        // first future run_at, so with a large future backlog and nothing due the claim
        // below would read the whole backlog; jobs_due answers in microseconds.
        let anyDue =
            try Bool.fetchOne(
                db.cachedStatement(
                    sql: "SELECT 1 FROM jobs INDEXED BY jobs_due WHERE state = 'queued' AND run_at <= ? LIMIT 1"),
                arguments: [nowSeconds]) ?? false
        var claimed: [ClaimRow] = []
        if anyDue {
            // INDEXED BY: left to itself SQLite picks jobs_state plus a sort, a scan of the
            // whole queue per claim (62 ms at 100,000 queued, against 0.02 ms this way;
            // docs/benchmarks.md). jobs_queue is in claim order: the LIMIT stops the walk.
            if !excludingKinds.isEmpty || !excludingHosts.isEmpty {
                let claim = try db.cachedStatement(sql: Self.claimExcludingSQL)
                let kinds = JobStore.jsonArray(excludingKinds.map(\.rawValue))
                let hosts = JobStore.jsonArray(Array(excludingHosts))
                claimed = try Row.fetchAll(claim, arguments: [nowSeconds, nowSeconds, kinds, hosts, limit])
                    .map(ClaimRow.init)
            } else {
                let claim = try db.cachedStatement(sql: Self.claimSQL)
                claimed = try Row.fetchAll(claim, arguments: [nowSeconds, nowSeconds, limit]).map(ClaimRow.init)
            }
        }
        var nextRunAt: Double?
        if claimed.count < limit {
            nextRunAt = try Double.fetchOne(
                db.cachedStatement(
                    sql: "SELECT min(run_at) FROM jobs INDEXED BY jobs_due WHERE state = 'queued' AND run_at > ?"),
                arguments: [nowSeconds])
        }
        guard !claimed.isEmpty else { return ([], nextRunAt) }
        claimed.sort { ($0.priority, -$0.runAt, -$0.id) > ($1.priority, -$1.runAt, -$1.id) }
        // Every attempt row in one statement: the jobs and their numbers as a JSON array of
        // integer pairs. The attempt's row id is the fencing token; the job's attempt_count
        // equals the attempt's number for as long as the attempt owns the job.
        var pairs = "["
        pairs.reserveCapacity(claimed.count * 16)
        for (index, row) in claimed.enumerated() {
            if index > 0 { pairs += "," }
            pairs += "[\(row.id),\(row.attemptCount)]"
        }
        pairs += "]"
        let insertAttempts = try db.cachedStatement(
            sql: """
                INSERT INTO attempts (job_id, number, started_at, outcome)
                SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), ?, 'running'
                FROM json_each(?) ORDER BY key
                RETURNING id, job_id
                """)
        var attemptIDs: [Int64: Int64] = [:]
        attemptIDs.reserveCapacity(claimed.count)
        let inserted = try Row.fetchCursor(insertAttempts, arguments: [nowSeconds, pairs])
        while let row = try inserted.next() {
            attemptIDs[row[1]] = row[0]
        }
        var rows: [(row: ClaimRow, attemptID: Int64)] = []
        rows.reserveCapacity(claimed.count)
        for row in claimed {
            guard let attemptID = attemptIDs[row.id] else {
                throw StoreError(.badData, "job \(row.id) was claimed without an attempt row")
            }
            rows.append((row, attemptID))
        }
        return (rows, nextRunAt)
    }
}

/// What `settle`'s write returns, before the specs are decoded.
private struct RawSettle: Sendable {
    var recorded: [Bool]
    var rows: [(row: ClaimRow, attemptID: Int64)]
    var nextRunAt: Double?
}

/// The columns a claim returns.
struct ClaimRow: Sendable {
    var id: Int64
    var spec: String
    var attemptCount: Int
    var interruptedCount: Int
    var maxAttempts: Int
    var timeout: Double?
    var priority: Int
    var runAt: Double
    var host: String?
    var submitterUID: Int64?

    init(_ row: Row) {
        id = row[0]
        spec = row[1]
        attemptCount = row[2]
        interruptedCount = row[3]
        maxAttempts = row[4]
        timeout = row[5]
        priority = row[6]
        runAt = row[7]
        host = row[8]
        submitterUID = row[9]
    }
}

/// The column values of a finish, computed before the writer runs.
private struct FinishWrite: Sendable {
    var state: JobState
    var outcome: AttemptOutcome
    var resultJSON: String?
    var jobError: JobError?
    var attemptError: JobError?
    var finishedAt: Double?
    var runAt: Double?
    var interrupted: Bool
    var now: Double

    init(end: AttemptEnd, now date: Date) throws {
        now = date.timeIntervalSince1970
        interrupted = false
        runAt = nil
        resultJSON = nil
        finishedAt = now
        switch end {
        case .succeeded(let result):
            state = .succeeded
            outcome = .succeeded
            resultJSON = try Self.encode(result)
        case .failed(let error, let result, let retryAt):
            outcome = .failed
            attemptError = error
            resultJSON = try result.map(Self.encode)
            if let retryAt {
                state = .queued
                runAt = retryAt.timeIntervalSince1970
                finishedAt = nil
            } else {
                state = .failed
                jobError = error
            }
        case .cancelled(let error):
            state = .cancelled
            outcome = .cancelled
            attemptError = error
            jobError = error
        case .interrupted(let error):
            state = .queued
            outcome = .interrupted
            attemptError = error
            interrupted = true
            finishedAt = nil
            runAt = now
        }
    }

    static func encode(_ result: JobResult) throws -> String {
        if let text = JSONText.encode(result) { return text }
        return String(decoding: try JSONCoding.makeEncoder().encode(result), as: UTF8.self)
    }
}
