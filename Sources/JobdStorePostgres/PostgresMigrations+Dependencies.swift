extension PostgresMigrations {
    /// Version 5: dependencies (`after`, issue 12), as SQLite's schema v5
    /// (`SQLiteJobStore+Dependencies.swift`).
    ///
    /// `job_dependencies` holds one row per edge, keyed by parent, so the children of a job
    /// that ends are one index range; `jobs.waiting_on` counts a waiting job's parents that
    /// have not ended, and `jobs.has_children` marks the jobs some job waits for (set by the
    /// insert that names them), so that the trigger's `WHEN` passes over every other job
    /// without a call. A job with children that ends, whichever write ends it, is put in
    /// `dependency_outbox` by the trigger; `jobd_propagate_dependencies()` settles the
    /// children of everything there, level by level, in a loop (no trigger recursion: a
    /// chain of any length has a constant stack), in the transaction of the end.
    ///
    /// Who calls it: the settle, between its finishes and its claim (so a released child is
    /// claimable in that same round), and the insert, which wants the transitions for its
    /// own changes. Every other write that ends jobs (a cancel, a batch's cancel, a rescue,
    /// any later verb or a hand-written `UPDATE`) needs to know nothing: a deferred
    /// constraint trigger on the outbox runs the function at commit and announces what it
    /// did with `pg_notify` from the origin `db` (the change feed's entry `d`), which every
    /// node hears, the writing one too. The outbox is `UNLOGGED`: a row never outlives its
    /// transaction, so it needs no WAL, and a crash leaves nothing in it to lose.
    static let dependencies = """
        -- Version 5: dependencies (issue 12).
        ALTER TABLE jobs ADD COLUMN waiting_on integer NOT NULL DEFAULT 0,
            ADD COLUMN on_dependency_failure text NOT NULL DEFAULT 'cancel',
            ADD COLUMN has_children boolean NOT NULL DEFAULT false;
        CREATE TABLE job_dependencies (
            parent_id bigint NOT NULL,
            child_id bigint NOT NULL,
            PRIMARY KEY (parent_id, child_id)
        );
        -- A job's parents (and the pruning of a child's edges).
        CREATE INDEX job_dependencies_child ON job_dependencies (child_id, parent_id);
        CREATE UNLOGGED TABLE dependency_outbox (job_id bigint PRIMARY KEY);
        -- The flag jobd.dependency_outbox is 'pending' while this transaction's outbox may
        -- hold rows: the commit-time trigger fires once per outbox row, and all but the
        -- first (or all, after an explicit drain) return at once on it.
        CREATE FUNCTION jobd_parent_ended() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO dependency_outbox (job_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
            PERFORM set_config('jobd.dependency_outbox', 'pending', true);
            RETURN NULL;
        END
        $$;
        CREATE TRIGGER jobs_parent_ended AFTER UPDATE OF state ON jobs
        FOR EACH ROW
        WHEN (NEW.has_children AND OLD.state IN ('waiting', 'queued', 'running')
            AND NEW.state IN ('succeeded', 'failed', 'cancelled'))
        EXECUTE FUNCTION jobd_parent_ended();
        -- Settles the children of the jobs in the outbox, level by level: a waiting child
        -- counts its parents that ended well (any end, under on_dependency_failure 'run')
        -- and is queued at zero; a child under 'cancel' with a parent that failed or was
        -- cancelled is cancelled (dependency_failed, naming the lowest such parent, at that
        -- parent's updated_at), and the trigger puts it in the outbox for the next level
        -- when it has children of its own. The children are locked in id order first, the
        -- order every writer that waits for job locks takes them. The message is
        -- DependencyTransition.error's, word for word. Generic plans: planning the level's
        -- statements anew on every turn of the loop cost 0.4 ms a level (a chain of 1,000
        -- took 460 ms; 90 ms with the cached plans). No JIT: under the settle's pinned plans
        -- (enable_seqscan off) the outbox's scan is costed past jit_above_cost, and compiling
        -- it took 50-170 ms a call for a statement that reads one row.
        CREATE FUNCTION jobd_propagate_dependencies()
        RETURNS TABLE (job_id bigint, kind text, parent_id bigint, parent_state text, submitter_uid bigint)
        LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan SET jit = off AS $$
        #variable_conflict use_column
        DECLARE
            level bigint[];
        BEGIN
            LOOP
                WITH gone AS (DELETE FROM dependency_outbox RETURNING job_id)
                SELECT array_agg(job_id ORDER BY job_id) INTO level FROM gone;
                EXIT WHEN level IS NULL;
                PERFORM 1 FROM jobs
                WHERE id IN (SELECT child_id FROM job_dependencies WHERE parent_id = ANY (level)) AND state = 'waiting'
                ORDER BY id
                FOR NO KEY UPDATE;
                RETURN QUERY
                WITH edges AS (
                    SELECT d.child_id, p.id AS parent, p.state AS parent_state, p.updated_at AS ended_at,
                        c.on_dependency_failure AS policy
                    FROM jobs p
                    JOIN job_dependencies d ON d.parent_id = p.id
                    JOIN jobs c ON c.id = d.child_id
                    WHERE p.id = ANY (level) AND p.state IN ('succeeded', 'failed', 'cancelled') AND c.state = 'waiting'
                ), counted AS (
                    SELECT child_id, count(*) FILTER (WHERE parent_state = 'succeeded' OR policy = 'run')::integer AS done,
                        max(ended_at) AS ended_at
                    FROM edges GROUP BY child_id
                ), failing AS (
                    SELECT DISTINCT ON (child_id) child_id, parent, parent_state, ended_at
                    FROM edges WHERE parent_state <> 'succeeded' AND policy = 'cancel'
                    ORDER BY child_id, parent
                ), settled AS (
                    UPDATE jobs c SET
                        state = CASE WHEN f.parent IS NOT NULL THEN 'cancelled'
                            WHEN c.waiting_on <= n.done THEN 'queued' ELSE 'waiting' END,
                        waiting_on = CASE WHEN f.parent IS NOT NULL THEN 0 ELSE greatest(c.waiting_on - n.done, 0) END,
                        error_code = CASE WHEN f.parent IS NOT NULL THEN 'dependency_failed' ELSE c.error_code END,
                        error_message = CASE WHEN f.parent IS NOT NULL
                            THEN 'job ' || f.parent
                                || CASE WHEN f.parent_state = 'cancelled' THEN ' was cancelled' ELSE ' failed' END
                                || '; this job waited for it'
                            ELSE c.error_message END,
                        finished_at = CASE WHEN f.parent IS NOT NULL THEN f.ended_at ELSE c.finished_at END,
                        updated_at = coalesce(f.ended_at, n.ended_at)
                    FROM counted n LEFT JOIN failing f ON f.child_id = n.child_id
                    WHERE c.id = n.child_id AND c.state = 'waiting'
                    RETURNING c.id, c.state, f.parent, f.parent_state, c.submitter_uid
                )
                SELECT s.id, CASE WHEN s.state = 'queued' THEN 'released' ELSE 'failed' END, s.parent,
                    s.parent_state, s.submitter_uid
                FROM settled s WHERE s.state <> 'waiting' ORDER BY s.id;
            END LOOP;
            PERFORM set_config('jobd.dependency_outbox', '', true);
        END
        $$;
        -- At commit, for the writes that did not run jobd_propagate_dependencies themselves:
        -- runs it and announces its transitions as the change feed's entry "d"
        -- (ChangeMessage), from the origin "db", split under the 7,900-byte payload limit.
        CREATE FUNCTION jobd_dependencies_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            t record;
            entry text;
            entries text := '';
        BEGIN
            IF current_setting('jobd.dependency_outbox', true) IS DISTINCT FROM 'pending' THEN
                RETURN NULL;
            END IF;
            FOR t IN SELECT * FROM jobd_propagate_dependencies() LOOP
                entry := '{"t":"d","s":"' || t.kind || '","r":[[' || t.job_id || ',' || t.job_id || ']]'
                    || coalesce(',"j":' || t.parent_id, '') || coalesce(',"ps":"' || t.parent_state || '"', '')
                    || coalesce(',"u":' || t.submitter_uid, '') || '}';
                -- 7,883: the payload's 7,900 less the envelope {"o":"db","c":[ and ]}.
                IF entries <> '' AND octet_length(entries) + 1 + octet_length(entry) > 7883 THEN
                    PERFORM pg_notify('jobd_changes', '{"o":"db","c":[' || entries || ']}');
                    entries := '';
                END IF;
                entries := CASE WHEN entries = '' THEN entry ELSE entries || ',' || entry END;
            END LOOP;
            IF entries <> '' THEN
                PERFORM pg_notify('jobd_changes', '{"o":"db","c":[' || entries || ']}');
            END IF;
            RETURN NULL;
        END
        $$;
        CREATE CONSTRAINT TRIGGER dependency_outbox_at_commit AFTER INSERT ON dependency_outbox
        DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION jobd_dependencies_at_commit();
        """
}
