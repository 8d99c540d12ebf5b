import GRDB
import JobdStore

extension SQLiteJobStore {
    /// The schema, one migration per version. Never edit a shipped migration: add one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            // Times are REAL unix seconds: cheap to compare in the claim query.
            try db.execute(
                sql: """
                    CREATE TABLE jobs (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        kind TEXT NOT NULL,
                        spec TEXT NOT NULL,
                        state TEXT NOT NULL,
                        priority INTEGER NOT NULL DEFAULT 0,
                        run_at REAL NOT NULL,
                        created_at REAL NOT NULL,
                        updated_at REAL NOT NULL,
                        finished_at REAL,
                        max_attempts INTEGER NOT NULL,
                        attempt_count INTEGER NOT NULL DEFAULT 0,
                        interrupted_count INTEGER NOT NULL DEFAULT 0,
                        current_attempt_id INTEGER,
                        timeout REAL,
                        on_interrupt TEXT NOT NULL DEFAULT 'retry',
                        idempotency_key TEXT UNIQUE,
                        submitter_uid INTEGER,
                        result TEXT,
                        error_code TEXT,
                        error_message TEXT,
                        error_http_status INTEGER
                    );
                    -- The ready queue, in claim order.
                    CREATE INDEX jobs_queue ON jobs(priority DESC, run_at, id) WHERE state = 'queued';
                    -- The earliest future run_at, for the dispatcher's timer.
                    CREATE INDEX jobs_due ON jobs(run_at) WHERE state = 'queued';
                    CREATE INDEX jobs_state ON jobs(state, id);
                    CREATE INDEX jobs_kind ON jobs(kind, id);
                    CREATE TABLE attempts (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
                        number INTEGER NOT NULL,
                        started_at REAL NOT NULL,
                        finished_at REAL,
                        outcome TEXT NOT NULL,
                        error_code TEXT,
                        error_message TEXT,
                        error_http_status INTEGER
                    );
                    CREATE INDEX attempts_job ON attempts(job_id, id);
                    CREATE INDEX attempts_running ON attempts(outcome) WHERE outcome = 'running';
                    """)
        }
        migrator.registerMigration("v2") { db in
            // host: `host:port` of a fetch job, for the per-host limit (NULL for delays, and
            // for fetches stored by v1, which then run without a host limit).
            try db.execute(
                sql: """
                    ALTER TABLE jobs ADD COLUMN host TEXT;
                    -- Claims that skip saturated kinds walk this one.
                    CREATE INDEX jobs_queue_kind ON jobs(kind, priority DESC, run_at, id) WHERE state = 'queued';
                    -- Retention: finished jobs by age.
                    CREATE INDEX jobs_finished ON jobs(finished_at) WHERE finished_at IS NOT NULL;
                    """)
        }
        migrator.registerMigration("v3") { db in
            // Fewer indexes to keep up on every insert, claim and finish (docs/benchmarks.md):
            // no query reads jobs_queue_kind since claims name jobs_queue (INDEXED BY), and
            // start-up recovery finds running attempts through their running jobs
            // (jobs_state, attempts_job) instead of attempts_running. jobs.current_attempt_id
            // is no longer written: a job is fenced by attempt_count = the attempt's number.
            try db.execute(
                sql: """
                    DROP INDEX IF EXISTS jobs_queue_kind;
                    DROP INDEX IF EXISTS attempts_running;
                    """)
        }
        migrator.registerMigration("v4", migrate: migrateBatches)
        migrator.registerMigration("v5", migrate: migrateDependencies)
        migrator.registerMigration("v6", migrate: migrateSharing)
        migrator.registerMigration("v7", migrate: migrateSchedules)
        migrator.registerMigration("v8") { db in
            // The triggers' WHEN clauses without IN lists (one ephemeral table per row).
            try migrateParentEndedTrigger(db)
            try migrateBatchTriggers(db)
        }
        migrator.registerMigration("v9", migrate: migrateFairRanks)
        return migrator
    }
}
