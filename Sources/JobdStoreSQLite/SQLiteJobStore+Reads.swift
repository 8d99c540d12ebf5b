import Foundation
import GRDB
import JobdModel
import JobdStore

extension SQLiteJobStore {
    /// The job with this id and all its attempts, or nil.
    ///
    /// - Throws: `StoreError`.
    public func job(_ id: JobID) async throws -> JobRecord? {
        try await read("cannot read job \(id)") { db in
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT \(Self.jobColumns) FROM jobs WHERE id = ?"),
                    arguments: [id.rawValue])
            else { return nil }
            var record = try Self.record(from: row)
            record.attempts = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT id, number, started_at, finished_at, outcome, error_code, error_message,
                            error_http_status
                        FROM attempts WHERE job_id = ? ORDER BY id
                        """), arguments: [id.rawValue]
            ).map(Self.attempt(from:))
            let children = try Int64.fetchAll(
                db.cachedStatement(sql: "SELECT child_id FROM job_dependencies WHERE parent_id = ? ORDER BY child_id"),
                arguments: [id.rawValue])
            if !children.isEmpty { record.children = children.map { JobID($0) } }
            return record
        }
    }

    /// Who submitted the job with this id, or nil when no job has it.
    ///
    /// The server checks it before acting on a job for a user who may only touch their own.
    ///
    /// - Throws: `StoreError`.
    public func owner(of id: JobID) async throws -> JobOwner? {
        try await read("cannot read job \(id)") { db in
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT submitter_uid FROM jobs WHERE id = ?"), arguments: [id.rawValue])
            else { return nil }
            let uid: Int64? = row["submitter_uid"]
            return JobOwner(submitterUID: uid.map { UInt32(truncatingIfNeeded: $0) })
        }
    }

    /// How many jobs are in each state.
    ///
    /// - Throws: `StoreError`.
    public func counts() async throws -> JobCounts {
        try await read("cannot count jobs") { db in
            var counts = JobCounts()
            for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT state, count(*) FROM jobs GROUP BY state")) {
                counts.set(row[1], forState: row[0])
            }
            return counts
        }
    }

    /// The earliest `run_at` of any queued job, or nil when nothing is queued.
    ///
    /// - Throws: `StoreError`.
    public func earliestRunAt() async throws -> Date? {
        try await read("cannot read the queue") { db in
            try Double.fetchOne(
                db.cachedStatement(sql: "SELECT min(run_at) FROM jobs INDEXED BY jobs_due WHERE state = 'queued'")
            )
            .map(Date.init(timeIntervalSince1970:))
        }
    }

    /// The earliest `run_at` after `date` of any queued job, or nil.
    ///
    /// The dispatcher sleeps until then when nothing else is claimable. Jobs already due
    /// but held back by a kind or host limit are not counted: a finished job wakes the
    /// dispatcher for those.
    ///
    /// - Throws: `StoreError`.
    public func earliestRunAt(after date: Date) async throws -> Date? {
        let seconds = date.timeIntervalSince1970
        return try await read("cannot read the queue") { db in
            try Double.fetchOne(
                db.cachedStatement(
                    sql: "SELECT min(run_at) FROM jobs INDEXED BY jobs_due WHERE state = 'queued' AND run_at > ?"),
                arguments: [seconds]
            ).map(Date.init(timeIntervalSince1970:))
        }
    }

    /// When the longest-finished job finished, or nil when no job is finished.
    ///
    /// The retention pruner sleeps until that job expires instead of polling.
    ///
    /// - Throws: `StoreError`.
    public func earliestFinishedAt() async throws -> Date? {
        // A batch's jobs expire with their batch: the earliest of the jobs outside batches
        // and of the finished batches.
        try await read("cannot read finished jobs") { db in
            try Double.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT min(t) FROM (
                            SELECT min(finished_at) AS t FROM jobs WHERE finished_at IS NOT NULL AND batch_id IS NULL
                            UNION ALL
                            SELECT min(finished_at) FROM batches WHERE finished_at IS NOT NULL)
                        """)
            ).map(Date.init(timeIntervalSince1970:))
        }
    }

    static let jobColumns = """
        id, kind, spec, state, priority, run_at, max_attempts, attempt_count, created_at, updated_at,
        finished_at, submitter_uid, result, error_code, error_message, error_http_status, batch_id
        """

    static func record(from row: Row) throws -> JobRecord {
        let id: Int64 = row["id"]
        let decoder = JSONCoding.makeDecoder()
        func decode<T: Decodable>(_ type: T.Type, _ text: String, _ what: String) throws -> T {
            do {
                return try decoder.decode(type, from: Data(text.utf8))
            } catch {
                throw StoreError(.badData, "job \(id) has a \(what) that does not decode: \(error)")
            }
        }
        guard let kind = JobKind(rawValue: row["kind"]), let state = JobState(rawValue: row["state"]) else {
            throw StoreError(.badData, "job \(id) has an unknown kind or state")
        }
        let resultText: String? = row["result"]
        let errorCode: String? = row["error_code"]
        let finishedAt: Double? = row["finished_at"]
        let uid: Int64? = row["submitter_uid"]
        let batchID: Int64? = row["batch_id"]
        // The usual stored spec is read by the submit's fast path; the decoder reads the rest.
        let specText: String = row["spec"]
        let spec = try SubmitFastPath.spec(specText) ?? decode(JobSpec.self, specText, "spec")
        return JobRecord(
            id: JobID(id), kind: kind, spec: spec, state: state,
            priority: row["priority"], runAt: Date(timeIntervalSince1970: row["run_at"]),
            maxAttempts: row["max_attempts"], attemptCount: row["attempt_count"],
            createdAt: Date(timeIntervalSince1970: row["created_at"]),
            updatedAt: Date(timeIntervalSince1970: row["updated_at"]),
            finishedAt: finishedAt.map(Date.init(timeIntervalSince1970:)),
            submitterUID: uid.map { UInt32(truncatingIfNeeded: $0) },
            result: try resultText.map { try decode(JobResult.self, $0, "result") },
            error: errorCode.map {
                JobError(.init(rawValue: $0), row["error_message"] ?? "", httpStatus: row["error_http_status"])
            },
            attempts: nil, batchID: batchID.map { BatchID($0) })
    }

    static func attempt(from row: Row) -> JobAttempt {
        let finishedAt: Double? = row["finished_at"]
        let errorCode: String? = row["error_code"]
        return JobAttempt(
            id: row["id"], number: row["number"], startedAt: Date(timeIntervalSince1970: row["started_at"]),
            finishedAt: finishedAt.map(Date.init(timeIntervalSince1970:)),
            outcome: AttemptOutcome(rawValue: row["outcome"]) ?? .failed,
            error: errorCode.map {
                JobError(.init(rawValue: $0), row["error_message"] ?? "", httpStatus: row["error_http_status"])
            })
    }
}

extension SQLiteJobStore {
    /// SQLite's plan (`EXPLAIN QUERY PLAN` details) for the dispatcher's claim statements,
    /// both forms: a diagnostic, and what a test holds so that no later index or schema
    /// change brings back a scan and sort of the whole queue per claim.
    ///
    /// - Throws: `StoreError`.
    public func claimPlan() async throws -> [String] {
        try await read("cannot explain the claim") { db in
            var details: [String] = []
            for (sql, arguments) in [
                (ClaimQuery.claimSQL, [0, 0, 10] as StatementArguments),
                (ClaimQuery.claimExcludingSQL, [0, 0, "[]", "[]", 10] as StatementArguments),
            ] {
                let rows = try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments)
                details += rows.map { $0["detail"] as String }
            }
            return details
        }
    }

    /// SQLite's plan for a fair-share claim's statements: the ranking of due jobs without
    /// a rank (`FairRanks.promote`) and the claim's walk of `jobs_fair`, both forms; for the
    /// same test.
    ///
    /// - Throws: `StoreError`.
    public func fairShareClaimPlan() async throws -> [String] {
        try await read("cannot explain the fair-share claim") { db in
            var details: [String] = []
            for (sql, arguments) in [
                (FairRanks.promoteSQL, [0, 10] as StatementArguments),
                (ClaimQuery.claimFairSQL, [0, 0, 10] as StatementArguments),
                (ClaimQuery.claimFairExcludingSQL, [0, 0, "[]", "[]", 10] as StatementArguments),
            ] {
                let rows = try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments)
                details += rows.map { $0["detail"] as String }
            }
            return details
        }
    }
}
