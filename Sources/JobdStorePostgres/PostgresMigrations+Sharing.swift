import Logging
import PostgresNIO

extension PostgresMigrations {
    /// Version 6: tags and key windows (issue 13), as SQLite's schema v6
    /// (`SQLiteJobStore+Sharing.swift`).
    ///
    /// - `job_tags (tag, job_id)`: the jobs with a tag are one range of its primary key, so
    ///   `GET /v1/jobs?tag=` walks it backwards to its page size. A GIN index on a `text[]`
    ///   would answer "which jobs have T" too, but as a bitmap: every job with the tag is
    ///   read and sorted before the page's LIMIT applies, and its pending list costs
    ///   inserts. `jobs.tags` keeps the job's tags (NULL for none) for pruning, which deletes
    ///   exactly those rows by primary key.
    /// - `jobs.key_expires_at`: when a key given with `key_window` stops holding; NULL for
    ///   a key held for ever. The key stays in `idempotency_key` under the unique partial
    ///   index `jobs_key`: an insert first takes the key from a holder whose window passed
    ///   (an `UPDATE` that row-locks the holder, so concurrent inserts of the key queue up
    ///   behind the first, and find the key taken again by its new job), then inserts with
    ///   `ON CONFLICT DO NOTHING` as before. The index decides who wins; nobody checks and
    ///   then inserts.
    ///
    /// The fair-share index (`jobs_fair`, `fairShareIndex`) is not part of the schema: it
    /// costs every insert and claim one more index entry, so a node started with
    /// `scheduling.fair_share: per_uid` builds it (`PostgresJobStore.open`), as SQLite's
    /// store does (docs/benchmarks.md, issue 13).
    static let sharing = """
        -- Version 6: tags and key windows (issue 13).
        ALTER TABLE jobs ADD COLUMN key_expires_at timestamptz, ADD COLUMN tags text[];
        CREATE TABLE job_tags (
            tag text NOT NULL,
            job_id bigint NOT NULL,
            PRIMARY KEY (tag, job_id)
        );
        """

    /// Queued jobs by submitter group (`coalesce(submitter_uid, -1)`), then in queue order,
    /// for fair-share claims: a loose index scan finds the groups, and one range per group
    /// its first due jobs.
    static let fairShareIndex = """
        CREATE INDEX IF NOT EXISTS jobs_fair ON jobs ((coalesce(submitter_uid, -1)), priority DESC, run_at, id)
            WHERE state = 'queued'
        """

    /// Builds the fair-share index unless it exists, under the migrations' advisory lock
    /// (nodes starting together build it once).
    static func buildFairShareIndex(_ client: PostgresClient, logger: Logger) async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
            try await connection.query(PostgresQuery(unsafeSQL: fairShareIndex), logger: logger)
        }
    }
}
