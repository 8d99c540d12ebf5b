import Foundation
import GRDB
import JobdModel
import JobdStore

/// A claim, run inside the caller's transaction.
struct ClaimQuery: Sendable {
    var limit: Int
    var excludingKinds: Set<JobKind>
    var excludingHosts: Set<String>
    var now: Date
    /// Queue order, or the submitters in turn (by their ranks, `FairRanks`).
    var fairShare: FairShare = .off
    /// The store's fair-share ranks.
    var ranks: FairRanks

    /// Claims the first `limit` due jobs in claim order (arguments: now, now, limit).
    static let claimSQL = makeClaimSQL(fair: false, excluding: false)

    /// `claimSQL` skipping kinds and hosts at their limits (arguments: now, now, kinds as
    /// a JSON array, hosts as a JSON array, limit).
    static let claimExcludingSQL = makeClaimSQL(fair: false, excluding: true)

    /// Claims the first `limit` ranked due jobs in fair order (arguments as `claimSQL`):
    /// the same walk along `jobs_fair`.
    static let claimFairSQL = makeClaimSQL(fair: true, excluding: false)

    /// `claimExcludingSQL` along `jobs_fair` (arguments as there).
    static let claimFairExcludingSQL = makeClaimSQL(fair: true, excluding: true)

    /// The claim's `UPDATE` of the first `limit` due jobs of one queue index, in its order:
    /// `jobs_queue` (priority, `run_at`, id) or, under fair share, `jobs_fair` (priority,
    /// rank, id), optionally skipping kinds and hosts.
    private static func makeClaimSQL(fair: Bool, excluding: Bool) -> String {
        let walk =
            fair
            ? "jobs INDEXED BY jobs_fair WHERE state = 'queued' AND fair_rank IS NOT NULL AND run_at <= ?"
            : "jobs INDEXED BY jobs_queue WHERE state = 'queued' AND run_at <= ?"
        let skip =
            excluding
            ? """

                    AND kind NOT IN (SELECT value FROM json_each(?))
                    AND (host IS NULL OR host NOT IN (SELECT value FROM json_each(?)))
            """ : ""
        return """
            UPDATE jobs SET state = 'running', attempt_count = attempt_count + 1, updated_at = ?
            WHERE id IN (
                SELECT id FROM \(walk)\(skip)
                ORDER BY priority DESC, \(fair ? "fair_rank" : "run_at"), id LIMIT ?)
            RETURNING id, spec, attempt_count, interrupted_count, max_attempts, timeout, priority, run_at, host,
                submitter_uid, fair_rank
            """
    }

    /// Attempt rows per insert statement: 3 bound values each.
    static let attemptChunk = 128

    /// `attemptsSQL` for 0 to `attemptChunk` rows, made once (the statement cache's keys).
    static let attemptsSQLs = (0...attemptChunk).map { attemptsSQL(rows: $0) }

    /// The insert of `rows` running attempts (arguments: per attempt, job id, number, start).
    static func attemptsSQL(rows: Int) -> String {
        "INSERT INTO attempts (job_id, number, started_at, outcome) VALUES "
            + Array(repeating: "(?, ?, ?, 'running')", count: rows).joined(separator: ", ")
    }

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
            let fair = fairShare == .perUID
            if fair {
                try ranks.load(in: db)
                try ranks.promote(now: nowSeconds, limit: max(limit, FairRanks.promotionBatch), in: db)
            }
            if !excludingKinds.isEmpty || !excludingHosts.isEmpty {
                let claim = try db.cachedStatement(sql: fair ? Self.claimFairExcludingSQL : Self.claimExcludingSQL)
                let kinds = SQLiteJobStore.jsonArray(excludingKinds.map(\.rawValue))
                let hosts = SQLiteJobStore.jsonArray(Array(excludingHosts))
                claimed = try ClaimRow.fetchAll(claim, arguments: [nowSeconds, nowSeconds, kinds, hosts, limit])
            } else {
                let claim = try db.cachedStatement(sql: fair ? Self.claimFairSQL : Self.claimSQL)
                claimed = try ClaimRow.fetchAll(claim, arguments: [nowSeconds, nowSeconds, limit])
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
        // RETURNING keeps no order: the claim's order is restored here.
        if fairShare == .perUID {
            claimed.sort { ($0.priority, -($0.fairRank ?? 0), -$0.id) > ($1.priority, -($1.fairRank ?? 0), -$1.id) }
            if let last = claimed.compactMap(\.fairRank).max() { ranks.claimed(upTo: last) }
        } else {
            claimed.sort { ($0.priority, -$0.runAt, -$0.id) > ($1.priority, -$1.runAt, -$1.id) }
        }
        // The attempt rows, by multi-row inserts of bound values. The attempt's row id is
        // the fencing token; the job's attempt_count equals the attempt's number for as long
        // as the attempt owns the job. `attempts.id` is AUTOINCREMENT and nothing else
        // inserts attempts meanwhile, so a statement's rows take consecutive ids in VALUES
        // order, ending at lastInsertedRowID (as `JobRowBatch` does for jobs).
        var attemptIDs: [Int64: Int64] = [:]
        attemptIDs.reserveCapacity(claimed.count)
        var start = 0
        while start < claimed.count {
            let end = min(start + Self.attemptChunk, claimed.count)
            var arguments = BoundValues(capacity: (end - start) * 3)
            for row in claimed[start..<end] {
                arguments.append(row.id)
                arguments.append(row.attemptCount)
                arguments.append(nowSeconds)
            }
            try db.cachedStatement(sql: Self.attemptsSQLs[end - start]).run(bound: arguments)
            guard db.changesCount == end - start else {
                throw StoreError(.badData, "a claim stored \(db.changesCount) of \(end - start) attempt rows")
            }
            var attemptID = db.lastInsertedRowID - Int64(end - start)
            for row in claimed[start..<end] {
                attemptID += 1
                attemptIDs[row.id] = attemptID
            }
            start = end
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
    var fairRank: Int64?

    /// The rows `statement` returns, read through a cursor: its row reads the statement's
    /// columns in place, where `Row.fetchAll` copies each row into values first.
    static func fetchAll(_ statement: Statement, arguments: StatementArguments) throws -> [ClaimRow] {
        var rows: [ClaimRow] = []
        let cursor = try Row.fetchCursor(statement, arguments: arguments)
        while let row = try cursor.next() { rows.append(ClaimRow(row)) }
        return rows
    }

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
        fairRank = row[10]
    }
}
