import Foundation
import GRDB
import JobdModel
import JobdStore

extension SQLiteJobStore {
    /// Schema v6: tags and key windows (issue 13); fair share needs an index, not a schema.
    ///
    /// - `job_tags (tag, job_id)`, keyed by tag and `WITHOUT ROWID`: the jobs with a tag are
    ///   one range of its primary key, newest last, so `GET /v1/jobs?tag=` walks it backwards
    ///   to its page size. `jobs.tags` keeps the job's tags (a JSON array, NULL for none) so
    ///   that pruning deletes exactly its rows without a second index by job.
    /// - `jobs.key_expires_at`: when a key given with `key_window` stops holding (unix
    ///   seconds); NULL for a key held for ever. The key itself stays in
    ///   `idempotency_key TEXT UNIQUE`, so SQLite's own constraint keeps it unique; a holder
    ///   whose window passed gives its key up (`idempotency_key` becomes NULL, nothing else
    ///   of it changes) inside the insert that takes the key over.
    ///
    /// The fair-share indexes (`fairShareIndexSQL`) are not part of the schema: they stand
    /// in for `jobs_queue` while fair share is on (`applyQueueIndexes`).
    static func migrateSharing(_ db: Database) throws {
        try db.execute(
            sql: """
                ALTER TABLE jobs ADD COLUMN key_expires_at REAL;
                ALTER TABLE jobs ADD COLUMN tags TEXT;
                CREATE TABLE job_tags (
                    tag TEXT NOT NULL,
                    job_id INTEGER NOT NULL,
                    PRIMARY KEY (tag, job_id)
                ) WITHOUT ROWID;
                """)
    }

    /// Fair share's two indexes (`FairRanks`): the ranked due jobs in claim order (a fair
    /// claim walks it as a plain one walks `jobs_queue`), and the queued jobs without a
    /// rank by `run_at` (delayed jobs, retries in their backoff, released children: the
    /// next fair claim ranks those due).
    static let fairShareIndexSQL = """
        CREATE INDEX IF NOT EXISTS jobs_fair ON jobs(priority DESC, fair_rank, id)
            WHERE state = 'queued' AND fair_rank IS NOT NULL;
        CREATE INDEX IF NOT EXISTS jobs_unranked ON jobs(run_at, id) WHERE state = 'queued' AND fair_rank IS NULL;
        """

    /// Schema v9: fair share by ranks (`FairRanks`). The rank column; v6's `jobs_fair` (by
    /// uid, then queue order) goes, and `fairShareIndexSQL` makes the new one when fair
    /// share is on.
    static func migrateFairRanks(_ db: Database) throws {
        try db.execute(
            sql: """
                ALTER TABLE jobs ADD COLUMN fair_rank INTEGER;
                DROP INDEX IF EXISTS jobs_fair;
                """)
    }

    /// The queued jobs in queue order, for the plain claim: schema v1's `jobs_queue`.
    static let queueIndexSQL = """
        CREATE INDEX IF NOT EXISTS jobs_queue ON jobs(priority DESC, run_at, id) WHERE state = 'queued'
        """

    /// Makes the queue indexes fit the claims to come, at open: `perUID` builds `jobs_fair`
    /// and `jobs_unranked` and drops `jobs_queue`; `off` builds `jobs_queue` and drops the
    /// other two; nil leaves them as they are.
    ///
    /// Each index costs every insert, claim and finish an index entry: W1 ran 5 % slower
    /// with both (docs/benchmarks.md, issue 13). A fair-share claim walks only `jobs_fair`,
    /// a plain one only `jobs_queue`, so one of them is enough. A claim that needs the missing one builds it in its own
    /// transaction (a library user that mixes both orders keeps both). Building an index
    /// reads every queued job once, about a second per million, before the store serves.
    ///
    /// - Returns: Which of the two exist now.
    static func applyQueueIndexes(_ fairShare: FairShare?, in pool: DatabasePool) throws -> QueueIndexes {
        try pool.write { db in
            switch fairShare {
            case .perUID?:
                try db.execute(sql: fairShareIndexSQL)
                try db.execute(sql: "DROP INDEX IF EXISTS jobs_queue")
            case .off?:
                try db.execute(sql: queueIndexSQL)
                try db.execute(sql: "DROP INDEX IF EXISTS jobs_fair; DROP INDEX IF EXISTS jobs_unranked")
            case nil:
                break
            }
            let names = try Set(
                String.fetchAll(
                    db,
                    sql: """
                        SELECT name FROM sqlite_master
                        WHERE type = 'index' AND name IN ('jobs_queue', 'jobs_fair', 'jobs_unranked')
                        """))
            return QueueIndexes(
                queue: names.contains("jobs_queue"),
                fair: names.contains("jobs_fair") && names.contains("jobs_unranked"))
        }
    }

    /// Takes `key` from its holder when the holder's window has passed by `now`, inside the
    /// caller's transaction.
    ///
    /// - Returns: The job that still holds the key, with its submitter; nil when no job
    ///   holds it (any more).
    static func keyHolder(_ key: String, now: Double, in db: Database) throws -> (id: Int64, uid: Int64?)? {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: "SELECT id, submitter_uid, key_expires_at FROM jobs WHERE idempotency_key = ?"),
                arguments: [key])
        else { return nil }
        let expiresAt: Double? = row["key_expires_at"]
        guard let expiresAt, expiresAt <= now else { return (row["id"], row["submitter_uid"]) }
        // The holder keeps its state, spec and place in the queue; it only stops answering
        // for the key. One writer: nothing can take the key between this and the insert.
        try db.cachedStatement(sql: "UPDATE jobs SET idempotency_key = NULL WHERE id = ?")
            .execute(arguments: [row["id"] as Int64])
        return nil
    }

    /// A job's tags as stored in `jobs.tags`: a JSON array, nil for none.
    static func tagsColumn(_ spec: JobSpec) -> String? {
        guard let tags = spec.tags, !tags.isEmpty else { return nil }
        return jsonArray(tags)
    }

    /// Indexes a new job's tags, inside the caller's transaction.
    static func insertTags(_ tags: [String]?, of id: JobID, in db: Database) throws {
        guard let tags, !tags.isEmpty else { return }
        let statement = try db.cachedStatement(sql: "INSERT INTO job_tags (tag, job_id) VALUES (?, ?)")
        for tag in tags {
            try statement.execute(arguments: [tag, id.rawValue])
        }
    }

    /// Removes a deleted job's tags (its `jobs.tags`), by the primary key of `job_tags`.
    static func deleteTags(_ tags: String, of id: Int64, in db: Database) throws {
        try db.cachedStatement(sql: "DELETE FROM job_tags WHERE tag IN (SELECT value FROM json_each(?)) AND job_id = ?")
            .execute(arguments: [tags, id])
    }
}

/// Which queue indexes a store has: `jobs_queue` (plain claims), and `jobs_fair` with
/// `jobs_unranked` (fair-share claims).
struct QueueIndexes: Sendable, Equatable {
    var queue: Bool
    var fair: Bool
}
