import Foundation
import JobdModel
import JobdStore
import PostgresNIO

extension PostgresJobStore {
    /// The columns `record(from:)` reads, in order.
    static let jobColumns = """
        id, kind, spec, state, priority, run_at, max_attempts, attempt_count, created_at, updated_at,
        finished_at, submitter_uid, result, error_code, error_message, error_http_status, batch_id
        """

    typealias JobRow = (
        Int64, String, String, String, Int, Date, Int, Int, Date, Date, Date?, Int64?, String?, String?, String?, Int?,
        Int64?
    )

    /// A `JobRow` and the job's children, ascending.
    private typealias JobRowWithChildren = (
        Int64, String, String, String, Int, Date, Int, Int, Date, Date, Date?, Int64?, String?, String?, String?, Int?,
        Int64?, [Int64]
    )

    /// The job with this id, all its attempts and the ids of the jobs that wait for it
    /// (`children`), or nil.
    ///
    /// - Throws: `StoreError`.
    public func job(_ id: JobID) async throws -> JobRecord? {
        let logger = self.logger
        return try await read("cannot read job \(id)") { connection in
            var record: JobRecord?
            // The children come in the same round trip, from job_dependencies' primary key.
            for try await row in try await connection.query(
                """
                SELECT \(unescaped: Self.jobColumns),
                    array(SELECT child_id FROM job_dependencies WHERE parent_id = jobs.id ORDER BY child_id)
                FROM jobs WHERE id = \(id.rawValue)
                """, logger: logger
            ).decode(JobRowWithChildren.self) {
                let (
                    id, kind, spec, state, priority, runAt, maxAttempts, attemptCount, createdAt, updatedAt,
                    finishedAt, uid, result, errorCode, errorMessage, errorStatus, batchID, children
                ) = row
                record = try Self.record(
                    from: (
                        id, kind, spec, state, priority, runAt, maxAttempts, attemptCount, createdAt, updatedAt,
                        finishedAt, uid, result, errorCode, errorMessage, errorStatus, batchID
                    ))
                if !children.isEmpty { record?.children = children.map { JobID($0) } }
            }
            guard var found = record else { return nil }
            var attempts: [JobAttempt] = []
            for try await (attemptID, number, started, finished, outcome, code, message, status, node)
                in try await connection
                .query(
                    """
                    SELECT id, number, started_at, finished_at, outcome, error_code, error_message, error_http_status,
                        node_name
                    FROM attempts WHERE job_id = \(id.rawValue)
                    UNION ALL
                    SELECT attempt_id, attempt_count, started_at, NULL, 'running', NULL, NULL, NULL, node_name
                    FROM jobs WHERE id = \(id.rawValue) AND state = 'running' AND attempt_id IS NOT NULL
                    ORDER BY 1
                    """, logger: logger
                ).decode((Int64, Int, Date, Date?, String, String?, String?, Int?, String?).self)
            {
                attempts.append(
                    JobAttempt(
                        id: attemptID, number: number, startedAt: started, finishedAt: finished,
                        outcome: AttemptOutcome(rawValue: outcome) ?? .failed,
                        error: code.map { JobError(.init(rawValue: $0), message ?? "", httpStatus: status) },
                        node: node))
            }
            found.attempts = attempts
            return found
        }
    }

    public func owner(of id: JobID) async throws -> JobOwner? {
        let logger = self.logger
        return try await read("cannot read job \(id)") { connection in
            for try await uid in try await connection.query(
                "SELECT submitter_uid FROM jobs WHERE id = \(id.rawValue)", logger: logger
            ).decode(Int64?.self) {
                return JobOwner(submitterUID: uid.map { UInt32(truncatingIfNeeded: $0) })
            }
            return nil
        }
    }

    public func counts() async throws -> JobCounts {
        let logger = self.logger
        return try await read("cannot count jobs") { connection in
            var counts = JobCounts()
            for try await (state, count) in try await connection.query(
                "SELECT state, count(*)::integer FROM jobs GROUP BY state", logger: logger
            ).decode((String, Int).self) {
                counts.set(count, forState: state)
            }
            return counts
        }
    }

    /// The earliest `finished_at` that retention may act on: of the finished jobs outside
    /// batches, and of the finished batches (a batch's jobs expire with their batch).
    public func earliestFinishedAt() async throws -> Date? {
        let logger = self.logger
        return try await read("cannot read finished jobs") { connection in
            for try await date in try await connection.query(
                """
                SELECT min(t) FROM (
                    SELECT min(finished_at) AS t FROM jobs WHERE finished_at IS NOT NULL AND batch_id IS NULL
                    UNION ALL
                    SELECT min(finished_at) FROM batches WHERE finished_at IS NOT NULL) AS m
                """, logger: logger
            ).decode(Date?.self) {
                return date
            }
            return nil
        }
    }

    static func record(from row: JobRow) throws -> JobRecord {
        let (
            id, kindText, specText, stateText, priority, runAt, maxAttempts, attemptCount, createdAt, updatedAt,
            finishedAt, uid, resultText, errorCode, errorMessage, errorStatus, batchID
        ) = row
        let decoder = JSONCoding.makeDecoder()
        func decode<T: Decodable>(_ type: T.Type, _ text: String, _ what: String) throws -> T {
            do {
                return try decoder.decode(type, from: Data(text.utf8))
            } catch {
                throw StoreError(.badData, "job \(id) has a \(what) that does not decode: \(error)")
            }
        }
        guard let kind = JobKind(rawValue: kindText), let state = JobState(rawValue: stateText) else {
            throw StoreError(.badData, "job \(id) has an unknown kind or state")
        }
        return JobRecord(
            id: JobID(id), kind: kind,
            spec: try SubmitFastPath.spec(specText) ?? decode(JobSpec.self, specText, "spec"), state: state,
            priority: priority, runAt: runAt, maxAttempts: maxAttempts, attemptCount: attemptCount,
            createdAt: createdAt, updatedAt: updatedAt, finishedAt: finishedAt,
            submitterUID: uid.map { UInt32(truncatingIfNeeded: $0) },
            result: try resultText.map { try decode(JobResult.self, $0, "result") },
            error: errorCode.map { JobError(.init(rawValue: $0), errorMessage ?? "", httpStatus: errorStatus) },
            attempts: nil, batchID: batchID.map { BatchID($0) })
    }
}
