import GRDB

extension SQLiteJobStore {
    /// Schema v4: batches (issue 12).
    ///
    /// A batch's jobs are ordinary rows with `batch_id` and `batch_index`; the `batches` row
    /// counts its jobs that are not terminal (`pending`) and those that ended other than
    /// `succeeded` (`failed`). Triggers keep the counts, so every write that ends a job (a
    /// finish, a cancel, a rescue, whatever comes later) ends its batch in the same
    /// transaction, and none of them needs to know about batches: when `pending` reaches
    /// 0 the batch becomes `succeeded` or `failed`, its `on_complete` job goes from
    /// `waiting` to `queued` (once: a reopened batch finds it no longer waiting), and a row
    /// in `batch_outbox` tells the writer to announce the end after the commit
    /// (`GroupCommitWriter` drains it in every transaction). A retry of a job of a
    /// finished batch reopens it. Times are the ending job's `updated_at`, so they follow
    /// the clock the store is given.
    static func migrateBatches(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE batches (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    label TEXT,
                    submitter_uid INTEGER,
                    created_at REAL NOT NULL,
                    size INTEGER NOT NULL,
                    pending INTEGER NOT NULL,
                    failed INTEGER NOT NULL DEFAULT 0,
                    state TEXT NOT NULL DEFAULT 'running',
                    finished_at REAL,
                    on_complete_id INTEGER
                );
                CREATE INDEX batches_submitter ON batches(submitter_uid, id);
                CREATE INDEX batches_finished ON batches(finished_at) WHERE finished_at IS NOT NULL;
                ALTER TABLE jobs ADD COLUMN batch_id INTEGER;
                ALTER TABLE jobs ADD COLUMN batch_index INTEGER;
                CREATE INDEX jobs_batch ON jobs(batch_id, batch_index) WHERE batch_id IS NOT NULL;
                CREATE TABLE batch_outbox (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    batch_id INTEGER NOT NULL,
                    state TEXT NOT NULL,
                    on_complete_id INTEGER,
                    submitter_uid INTEGER
                );
                -- SET expressions read the row as it was: `pending = 1` is the last job.
                CREATE TRIGGER jobs_batch_ended AFTER UPDATE OF state ON jobs
                WHEN NEW.batch_id IS NOT NULL AND OLD.state IN ('waiting', 'queued', 'running')
                    AND NEW.state IN ('succeeded', 'failed', 'cancelled')
                \(batchEndedActions)
                END;
                CREATE TRIGGER jobs_batch_reopened AFTER UPDATE OF state ON jobs
                WHEN NEW.batch_id IS NOT NULL AND OLD.state IN ('succeeded', 'failed', 'cancelled')
                    AND NEW.state IN ('waiting', 'queued', 'running')
                \(batchReopenedActions)
                END;
                """)
    }

    /// What `jobs_batch_ended` does (v4; its `WHEN` changed in v8): counts the end in
    /// its batch, and at the batch's last end records it in the outbox and queues its
    /// `on_complete` job.
    static let batchEndedActions = """
        BEGIN
            UPDATE batches SET pending = pending - 1, failed = failed + (NEW.state <> 'succeeded'),
                state = CASE WHEN pending > 1 THEN state
                    WHEN failed + (NEW.state <> 'succeeded') > 0 THEN 'failed' ELSE 'succeeded' END,
                finished_at = CASE WHEN pending > 1 THEN finished_at ELSE NEW.updated_at END
            WHERE id = NEW.batch_id;
            -- Before the release, so it names the on_complete job only when this end
            -- queues it.
            INSERT INTO batch_outbox (batch_id, state, on_complete_id, submitter_uid)
                SELECT b.id, b.state,
                    (SELECT j.id FROM jobs j WHERE j.id = b.on_complete_id AND j.state = 'waiting'),
                    b.submitter_uid
                FROM batches b WHERE b.id = NEW.batch_id AND b.pending = 0;
            UPDATE jobs SET state = 'queued', updated_at = NEW.updated_at
            WHERE state = 'waiting'
                AND id = (SELECT on_complete_id FROM batches WHERE id = NEW.batch_id AND pending = 0);
        """

    /// What `jobs_batch_reopened` does: a batch job run again (a retry) opens its batch again.
    static let batchReopenedActions = """
        BEGIN
            UPDATE batches SET pending = pending + 1, failed = failed - (OLD.state <> 'succeeded'),
                state = 'running', finished_at = NULL
            WHERE id = NEW.batch_id;
        """

    /// Schema v8, batches' part: the batch triggers' `WHEN` without `IN` lists, as
    /// `migrateParentEndedTrigger` says why (an ephemeral table per row and list).
    static func migrateBatchTriggers(_ db: Database) throws {
        try db.execute(
            sql: """
                DROP TRIGGER jobs_batch_ended;
                DROP TRIGGER jobs_batch_reopened;
                CREATE TRIGGER jobs_batch_ended AFTER UPDATE OF state ON jobs
                WHEN NEW.batch_id IS NOT NULL
                    AND (NEW.state = 'succeeded' OR NEW.state = 'failed' OR NEW.state = 'cancelled')
                    AND (OLD.state = 'running' OR OLD.state = 'queued' OR OLD.state = 'waiting')
                \(batchEndedActions)
                END;
                CREATE TRIGGER jobs_batch_reopened AFTER UPDATE OF state ON jobs
                WHEN NEW.batch_id IS NOT NULL
                    AND (OLD.state = 'succeeded' OR OLD.state = 'failed' OR OLD.state = 'cancelled')
                    AND (NEW.state = 'running' OR NEW.state = 'queued' OR NEW.state = 'waiting')
                \(batchReopenedActions)
                END;
                """)
    }

    /// Takes the batch ends that this transaction's triggers recorded, for the writer to
    /// announce after the commit; runs at the end of every group transaction.
    static func drainBatchOutbox(_ db: Database) throws -> [BatchEnd] {
        try Row.fetchAll(
            db.cachedStatement(
                sql: "DELETE FROM batch_outbox RETURNING batch_id, state, on_complete_id, submitter_uid")
        ).map { row in
            BatchEnd(batchID: row[0], state: row[1], onCompleteID: row[2], submitterUID: row[3])
        }
    }
}

/// One row of `batch_outbox`, as the writer drained it.
struct BatchEnd: Sendable {
    var batchID: Int64
    var state: String
    var onCompleteID: Int64?
    var submitterUID: Int64?
}
