extension PostgresMigrations {
    /// Version 4: batches (issue 12), as SQLite's schema v4 (`SQLiteJobStore+BatchSchema.swift`).
    ///
    /// A batch's jobs are ordinary rows with `batch_id` and `batch_index`; the `batches` row
    /// counts its jobs that are not terminal (`pending`) and those that ended other than
    /// `succeeded` (`failed`). A row trigger keeps the counts, so every write that ends a
    /// job (a finish, a cancel, a rescue, whatever comes later, on any node) ends its batch
    /// in the same transaction, and none of them needs to know about batches: when
    /// `pending` reaches 0 the batch becomes `succeeded` or `failed`, its `on_complete` job
    /// goes from `waiting` to `queued` (once: a reopened batch finds it no longer waiting),
    /// and the trigger announces the end with `pg_notify`, delivered at commit to every node
    /// (the origin `db` is no node's, so the node that wrote it hears it too). A retry of a
    /// job of a finished batch reopens it. Times are the ending job's `updated_at`, so they
    /// follow the clock the store is given.
    static let batches = """
        -- Version 4: batches (issue 12).
        CREATE TABLE batches (
            id bigserial PRIMARY KEY,
            label text,
            submitter_uid bigint,
            created_at timestamptz NOT NULL,
            size integer NOT NULL,
            pending integer NOT NULL,
            failed integer NOT NULL DEFAULT 0,
            state text NOT NULL DEFAULT 'running',
            finished_at timestamptz,
            on_complete_id bigint
        );
        -- Neither index holds pending or failed, so the trigger's many updates of one row
        -- can be HOT.
        CREATE INDEX batches_submitter ON batches (submitter_uid, id);
        CREATE INDEX batches_finished ON batches (finished_at) WHERE finished_at IS NOT NULL;
        ALTER TABLE jobs ADD COLUMN batch_id bigint, ADD COLUMN batch_index integer;
        CREATE INDEX jobs_batch ON jobs (batch_id, batch_index) WHERE batch_id IS NOT NULL;
        CREATE FUNCTION jobd_batch_job_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            ended batches%ROWTYPE;
            released bigint;
        BEGIN
            IF NEW.state NOT IN ('succeeded', 'failed', 'cancelled') THEN
                -- A retry: the batch runs again. Its on_complete job is no longer waiting,
                -- so its next end does not queue it again.
                UPDATE batches SET pending = pending + 1,
                    failed = failed - (OLD.state <> 'succeeded')::integer, state = 'running', finished_at = NULL
                WHERE id = NEW.batch_id;
                RETURN NULL;
            END IF;
            -- SET expressions read the row as it was: `pending = 1` is the last job.
            UPDATE batches SET pending = pending - 1, failed = failed + (NEW.state <> 'succeeded')::integer,
                state = CASE WHEN pending > 1 THEN state
                    WHEN failed + (NEW.state <> 'succeeded')::integer > 0 THEN 'failed' ELSE 'succeeded' END,
                finished_at = CASE WHEN pending > 1 THEN finished_at ELSE NEW.updated_at END
            WHERE id = NEW.batch_id
            RETURNING * INTO ended;
            IF NOT FOUND OR ended.pending > 0 THEN
                RETURN NULL;
            END IF;
            UPDATE jobs SET state = 'queued', updated_at = NEW.updated_at
            WHERE id = ended.on_complete_id AND state = 'waiting'
            RETURNING id INTO released;
            -- The change feed's entry "k" (ChangeMessage), named "j" only when this end
            -- queued on_complete. Delivered at commit; a rolled-back end sends nothing.
            PERFORM pg_notify('jobd_changes',
                '{"o":"db","c":[{"t":"k","b":' || ended.id || ',"s":"' || ended.state || '"'
                    || coalesce(',"j":' || released, '') || coalesce(',"u":' || ended.submitter_uid, '') || '}]}');
            RETURN NULL;
        END
        $$;
        -- Only a change between unfinished and finished calls the function: a claim's
        -- queued to running does not.
        CREATE TRIGGER jobs_batch_counts AFTER UPDATE OF state ON jobs
        FOR EACH ROW
        WHEN (NEW.batch_id IS NOT NULL AND OLD.state IS DISTINCT FROM NEW.state
            AND (OLD.state IN ('succeeded', 'failed', 'cancelled')) <> (NEW.state IN ('succeeded', 'failed', 'cancelled')))
        EXECUTE FUNCTION jobd_batch_job_changed();
        """
}
