import GRDB
import GRDBSQLite
import JobdModel
import JobdStore

/// The fenced finishes of one settle round, as a few statements for the whole round
/// instead of two per attempt.
///
/// The jobs of up to `chunk` finishes are updated by one `UPDATE … FROM` a table of bound
/// values, fenced as one finish was (the job is `running` the attempt's number), and
/// `RETURNING` names the jobs it changed (with the owning attempt's number); one more
/// statement then ends their attempt rows.
/// Per attempt this saves the statement overheads (binding through GRDB, the reset, the
/// statement journal, the halt) that were a third of a finish (docs/benchmarks.md). The
/// values are bound, never spliced into the SQL; a chunk's statement text depends only on
/// its row count, so the statement cache holds at most `chunk` of each.
struct FinishStatements {
    /// Finishes per statement: 11 bound values each, far under SQLite's 32,766.
    static let chunk = 64

    var finishes: [(attempt: AttemptRef, write: FinishWrite)]

    /// Runs the finishes in the caller's transaction.
    ///
    /// - Returns: For each finish, in order, whether it was recorded (false: its attempt
    ///   no longer owns the job).
    func run(in db: Database) throws -> [Bool] {
        var recorded: [Bool] = []
        recorded.reserveCapacity(finishes.count)
        var start = 0
        while start < finishes.count {
            let slice = finishes[start..<min(start + Self.chunk, finishes.count)]
            recorded += try Self.run(slice, in: db)
            start += Self.chunk
        }
        return recorded
    }

    private static func run(
        _ slice: ArraySlice<(attempt: AttemptRef, write: FinishWrite)>, in db: Database
    ) throws -> [Bool] {
        var jobArguments = BoundValues(capacity: slice.count * 11)
        for (attempt, write) in slice {
            jobArguments.append(attempt.jobID.rawValue)
            jobArguments.append(attempt.number)
            jobArguments.append(write.state.rawValue)
            jobArguments.append(write.resultJSON)
            jobArguments.append(write.jobError?.code.rawValue)
            jobArguments.append(write.jobError?.message)
            jobArguments.append(write.jobError?.httpStatus)
            jobArguments.append(write.finishedAt)
            jobArguments.append(write.now)
            jobArguments.append(write.runAt)
            jobArguments.append(write.interrupted ? 1 : 0)
        }
        let updateJobs = try db.cachedStatement(sql: jobsSQLs[slice.count])
        // The jobs changed, with the attempt number that owned each: a stale finish of the
        // same job in the same round (another number) is not recorded.
        var changed: [Int64: Int] = [:]
        changed.reserveCapacity(slice.count)
        try updateJobs.run(bound: jobArguments) { row in
            changed[sqlite3_column_int64(row, 0)] = Int(sqlite3_column_int64(row, 1))
        }
        let recorded = slice.map { changed[$0.attempt.jobID.rawValue] == $0.attempt.number }
        guard !changed.isEmpty else { return recorded }

        let recordedCount = recorded.count { $0 }
        var attemptArguments = BoundValues(capacity: recordedCount * 6)
        for ((attempt, write), wasRecorded) in zip(slice, recorded) where wasRecorded {
            attemptArguments.append(attempt.attemptID)
            attemptArguments.append(write.now)
            attemptArguments.append(write.outcome.rawValue)
            attemptArguments.append(write.attemptError?.code.rawValue)
            attemptArguments.append(write.attemptError?.message)
            attemptArguments.append(write.attemptError?.httpStatus)
        }
        try db.cachedStatement(sql: attemptsSQLs[recordedCount]).run(bound: attemptArguments)
        return recorded
    }

    /// `rows` groups of `width` placeholders: `(?, ?), (?, ?)`.
    private static func values(rows: Int, width: Int) -> String {
        let row = "(" + Array(repeating: "?", count: width).joined(separator: ", ") + ")"
        return Array(repeating: row, count: rows).joined(separator: ", ")
    }

    /// `jobsSQL` and `attemptsSQL` for 0 to `chunk` rows, made once: the statement cache's
    /// keys, which would otherwise be built again for every statement.
    static let jobsSQLs = (0...chunk).map { jobsSQL(rows: $0) }
    static let attemptsSQLs = (0...chunk).map { attemptsSQL(rows: $0) }

    /// The jobs' update (arguments: per finish, the 11 columns of `f`).
    static func jobsSQL(rows: Int) -> String {
        """
        WITH f(id, number, state, result, error_code, error_message, error_http_status, finished_at, updated_at,
            run_at, interrupted) AS (VALUES \(values(rows: rows, width: 11)))
        UPDATE jobs SET state = f.state, result = f.result, error_code = f.error_code,
            error_message = f.error_message, error_http_status = f.error_http_status, finished_at = f.finished_at,
            updated_at = f.updated_at, run_at = coalesce(f.run_at, jobs.run_at),
            interrupted_count = jobs.interrupted_count + f.interrupted, fair_rank = NULL
        FROM f WHERE jobs.id = f.id AND jobs.state = 'running' AND jobs.attempt_count = f.number
        RETURNING jobs.id, jobs.attempt_count
        """
    }

    /// The recorded attempts' update (arguments: per attempt, the 6 columns of `f`).
    static func attemptsSQL(rows: Int) -> String {
        """
        WITH f(id, finished_at, outcome, error_code, error_message, error_http_status)
            AS (VALUES \(values(rows: rows, width: 6)))
        UPDATE attempts SET finished_at = f.finished_at, outcome = f.outcome, error_code = f.error_code,
            error_message = f.error_message, error_http_status = f.error_http_status
        FROM f WHERE attempts.id = f.id
        """
    }
}
