import Foundation
import GRDB
import GRDBSQLite
import JobdModel
import JobdStore

extension SQLiteJobStore {
    /// A page of jobs, newest first, as summaries: no result bodies, no attempts.
    ///
    /// With a tag, the page is read along `job_tags`' primary key (that tag's jobs, newest
    /// first), each job by its id: a tag with few jobs costs few rows, however many jobs
    /// there are. The `result` column is never loaded by the query (`typeof` reads only
    /// its type): each result is described from its first bytes, read through SQLite's
    /// incremental blob I/O (`resultSummary(ofJob:in:)`).
    ///
    /// - Throws: `StoreError`.
    public func list(_ query: JobListQuery) async throws -> [JobSummary] {
        let (state, kind, limit, before, submitterUID, tag) = (
            query.state, query.kind, query.limit, query.before, query.submitterUID, query.tag
        )
        return try await read("cannot list jobs") { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let tag {
                conditions.append("t.tag = ?")
                arguments += [tag]
            }
            if let submitterUID {
                conditions.append("submitter_uid = ?")
                arguments += [Int64(submitterUID)]
            }
            if let state {
                conditions.append("state = ?")
                arguments += [state.rawValue]
            }
            if let kind {
                conditions.append("kind = ?")
                arguments += [kind.rawValue]
            }
            if let before {
                conditions.append(tag == nil ? "id < ?" : "t.job_id < ?")
                arguments += [before.rawValue]
            }
            arguments += [limit]
            let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            // CROSS JOIN keeps job_tags outside: SQLite never reorders it.
            let sql =
                tag == nil
                ? "SELECT \(Self.summaryColumns) FROM jobs \(whereClause) ORDER BY id DESC LIMIT ?"
                : """
                SELECT \(Self.summaryColumns) FROM job_tags t CROSS JOIN jobs ON jobs.id = t.job_id \(whereClause)
                ORDER BY t.job_id DESC LIMIT ?
                """
            return try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments).map { row in
                // `record(from:)` finds no `result` column: the record comes without one.
                var summary = JobSummary(try Self.record(from: row))
                if (row["result_type"] as String?) == "text" {
                    summary.result = try Self.resultSummary(ofJob: row["id"], in: db)
                }
                return summary
            }
        }
    }

    /// `jobColumns` with the result's type in place of the result.
    static let summaryColumns = """
        id, kind, spec, state, priority, run_at, max_attempts, attempt_count, created_at, updated_at,
        finished_at, submitter_uid, typeof(result) AS result_type, error_code, error_message, error_http_status,
        batch_id
        """

    /// Describes the job's stored result from its first `ResultHead.prefixBytes`, read
    /// with `sqlite3_blob_read`, which reads only the pages that hold them; the whole
    /// result only when they do not say enough (`ResultHead`).
    ///
    /// - Important: Call it inside the read transaction that listed the job, whose
    ///   `result` is known to be text.
    static func resultSummary(ofJob id: Int64, in db: Database) throws -> ResultSummary {
        var blob: OpaquePointer?
        let opened = sqlite3_blob_open(db.sqliteConnection, "main", "jobs", "result", id, 0, &blob)
        guard opened == SQLITE_OK, let blob else {
            sqlite3_blob_close(blob)
            throw DatabaseError(
                resultCode: ResultCode(rawValue: opened),
                message: "cannot open the result of job \(id): \(String(cString: sqlite3_errmsg(db.sqliteConnection)))")
        }
        defer { sqlite3_blob_close(blob) }
        let total = Int(sqlite3_blob_bytes(blob))
        var prefix = [UInt8](repeating: 0, count: min(total, ResultHead.prefixBytes))
        let count = Int32(prefix.count)
        let read = prefix.withUnsafeMutableBytes { sqlite3_blob_read(blob, $0.baseAddress, count, 0) }
        guard read == SQLITE_OK else {
            throw DatabaseError(resultCode: ResultCode(rawValue: read), message: "cannot read the result of job \(id)")
        }
        if let summary = ResultHead.summary(prefix: prefix, totalBytes: total) {
            return summary
        }
        // Stored before fetch bodies went last, or headers past the prefix: read it all.
        let text =
            try String.fetchOne(db.cachedStatement(sql: "SELECT result FROM jobs WHERE id = ?"), arguments: [id]) ?? ""
        do {
            return ResultSummary(try JSONCoding.makeDecoder().decode(JobResult.self, from: Data(text.utf8)))
        } catch {
            throw StoreError(.badData, "job \(id) has a result that does not decode: \(error)")
        }
    }
}
