import Foundation
import JobdModel
import JobdStore
import PostgresNIO

extension PostgresJobStore {
    /// `jobColumns` with the result's first `ResultHead.prefixBytes` characters and its
    /// length in bytes in place of the result: `left` detoasts only the slice it needs and
    /// `octet_length` reads the stored size, so a list never reads a result body.
    static let summaryColumns = """
        id, kind, spec, state, priority, run_at, max_attempts, attempt_count, created_at, updated_at,
        finished_at, submitter_uid, left(result, \(ResultHead.prefixBytes)), error_code, error_message,
        error_http_status, batch_id, octet_length(result)
        """

    /// A `JobRow` whose result is a prefix, and the result's length in bytes.
    private typealias SummaryRow = (
        Int64, String, String, String, Int, Date, Int, Int, Date, Date, Date?, Int64?, String?, String?, String?, Int?,
        Int64?, Int?
    )

    /// A page of jobs, newest first, as summaries: no result bodies, no attempts. With a
    /// tag, the page is read along `job_tags`' primary key (that tag's jobs, newest first)
    /// and each job by its id.
    public func list(_ query: JobListQuery) async throws -> [JobSummary] {
        let logger = self.logger
        return try await read("cannot list jobs") { connection in
            // NULL filters match everything (the planner folds them away: an unnamed
            // statement is planned with its values); finished states use jobs_ended, the
            // rest walk the primary key backwards to the LIMIT.
            let uid = query.submitterUID.map { Int64($0) }
            let rows =
                if let tag = query.tag {
                    try await connection.query(
                        """
                        SELECT \(unescaped: Self.summaryColumns) FROM job_tags t JOIN jobs ON jobs.id = t.job_id
                        WHERE t.tag = \(tag)
                            AND (\(uid)::bigint IS NULL OR submitter_uid = \(uid))
                            AND (\(query.state?.rawValue)::text IS NULL OR state = \(query.state?.rawValue))
                            AND (\(query.kind?.rawValue)::text IS NULL OR kind = \(query.kind?.rawValue))
                            AND (\(query.before?.rawValue)::bigint IS NULL OR t.job_id < \(query.before?.rawValue))
                        ORDER BY t.job_id DESC LIMIT \(query.limit)
                        """, logger: logger)
                } else {
                    try await connection.query(
                        """
                        SELECT \(unescaped: Self.summaryColumns) FROM jobs
                        WHERE (\(uid)::bigint IS NULL OR submitter_uid = \(uid))
                            AND (\(query.state?.rawValue)::text IS NULL OR state = \(query.state?.rawValue))
                            AND (\(query.kind?.rawValue)::text IS NULL OR kind = \(query.kind?.rawValue))
                            AND (\(query.before?.rawValue)::bigint IS NULL OR id < \(query.before?.rawValue))
                        ORDER BY id DESC LIMIT \(query.limit)
                        """, logger: logger)
                }
            var summaries: [JobSummary] = []
            var unread: [(index: Int, id: Int64)] = []
            for try await row in rows.decode(SummaryRow.self) {
                let (
                    id, kind, spec, state, priority, runAt, maxAttempts, attemptCount, createdAt, updatedAt,
                    finishedAt, uid, prefix, errorCode, errorMessage, errorStatus, batchID, totalBytes
                ) = row
                var summary = JobSummary(
                    try Self.record(
                        from: (
                            id, kind, spec, state, priority, runAt, maxAttempts, attemptCount, createdAt, updatedAt,
                            finishedAt, uid, nil, errorCode, errorMessage, errorStatus, batchID
                        )))
                if let prefix, let totalBytes {
                    summary.result = ResultHead.summary(prefix: Array(prefix.utf8), totalBytes: totalBytes)
                    if summary.result == nil { unread.append((summaries.count, id)) }
                }
                summaries.append(summary)
            }
            // Stored before fetch bodies went last, or headers past the prefix: read those
            // results whole, one by one.
            for (index, id) in unread {
                for try await text in try await connection.query(
                    "SELECT result FROM jobs WHERE id = \(id)", logger: logger
                ).decode(String?.self) {
                    guard let text else { continue }
                    do {
                        summaries[index].result = ResultSummary(
                            try JSONCoding.makeDecoder().decode(JobResult.self, from: Data(text.utf8)))
                    } catch {
                        throw StoreError(.badData, "job \(id) has a result that does not decode: \(error)")
                    }
                }
            }
            return summaries
        }
    }
}
