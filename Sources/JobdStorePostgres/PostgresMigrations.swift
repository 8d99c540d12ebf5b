import Foundation
import JobdStore
import Logging
import PostgresNIO

/// The schema, one migration per version, applied under an advisory lock so that nodes
/// starting together migrate once. Never edit a shipped migration: add one.
enum PostgresMigrations {
    /// The advisory lock key of migrations ("jobd" in ASCII, then 1).
    static let lockKey: Int64 = 0x6A6F_6264_0001

    /// Every migration, in order; its number is its index plus one.
    static let migrations: [String] = [
        """
        CREATE TABLE jobs (
            id bigserial PRIMARY KEY,
            kind text NOT NULL,
            spec text NOT NULL,
            state text NOT NULL,
            priority integer NOT NULL DEFAULT 0,
            run_at timestamptz NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            finished_at timestamptz,
            max_attempts integer NOT NULL,
            attempt_count integer NOT NULL DEFAULT 0,
            interrupted_count integer NOT NULL DEFAULT 0,
            timeout double precision,
            on_interrupt text NOT NULL DEFAULT 'retry',
            idempotency_key text UNIQUE,
            submitter_uid bigint,
            host text,
            result text,
            error_code text,
            error_message text,
            error_http_status integer
        );
        -- The ready queue in claim order: claims walk it and stop at their LIMIT.
        CREATE INDEX jobs_queue ON jobs (priority DESC, run_at, id) WHERE state = 'queued';
        -- The earliest future run_at, for the dispatchers' timers.
        CREATE INDEX jobs_due ON jobs (run_at) WHERE state = 'queued';
        CREATE INDEX jobs_state ON jobs (state, id);
        CREATE INDEX jobs_kind ON jobs (kind, id);
        CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;
        -- One node incarnation per row: a restarted node is a new row.
        CREATE TABLE nodes (
            id bigserial PRIMARY KEY,
            name text NOT NULL,
            version text NOT NULL,
            workers integer NOT NULL,
            started_at timestamptz NOT NULL DEFAULT now(),
            renewed_at timestamptz NOT NULL DEFAULT now(),
            lease_until timestamptz NOT NULL,
            running integer NOT NULL DEFAULT 0
        );
        CREATE TABLE attempts (
            id bigserial PRIMARY KEY,
            job_id bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
            number integer NOT NULL,
            node_id bigint,
            node_name text,
            started_at timestamptz NOT NULL,
            finished_at timestamptz,
            outcome text NOT NULL,
            error_code text,
            error_message text,
            error_http_status integer
        );
        CREATE INDEX attempts_job ON attempts (job_id, id);
        -- The leader's rescue and each node's running count.
        CREATE INDEX attempts_running ON attempts (node_id) WHERE outcome = 'running';
        -- River's river_leader shape: one row, held by a lease.
        CREATE TABLE leader (
            id integer PRIMARY KEY CHECK (id = 1),
            node_id bigint NOT NULL,
            name text NOT NULL,
            elected_at timestamptz NOT NULL DEFAULT now(),
            lease_until timestamptz NOT NULL
        );
        CREATE TABLE cluster_settings (
            id integer PRIMARY KEY CHECK (id = 1),
            paused boolean NOT NULL DEFAULT false
        );
        INSERT INTO cluster_settings (id) VALUES (1);
        """,
        """
        -- Version 2: idempotency keys are rare, so only rows with one are indexed. The
        -- UNIQUE constraint's index held a NULL entry for every version of every row: one
        -- more index write per insert, claim and finish.
        CREATE UNIQUE INDEX jobs_key ON jobs (idempotency_key) WHERE idempotency_key IS NOT NULL;
        ALTER TABLE jobs DROP CONSTRAINT jobs_idempotency_key_key;
        """,
        """
        -- Version 3: a running attempt lives on its job's row (attempt_id, set only while
        -- state = 'running', and node_id, node_name, started_at of the latest attempt),
        -- and its attempts row is written once, when it ends. A claim is then one UPDATE of
        -- the job and a finish one UPDATE plus one INSERT, where it was an UPDATE and an
        -- INSERT, then two UPDATEs. Attempt ids still come from attempts_id_seq, so an
        -- attempt keeps its id from claim to end.
        ALTER TABLE jobs ADD COLUMN attempt_id bigint, ADD COLUMN node_id bigint, ADD COLUMN node_name text,
            ADD COLUMN started_at timestamptz;
        UPDATE jobs j SET attempt_id = a.id, node_id = a.node_id, node_name = a.node_name, started_at = a.started_at
            FROM attempts a
            WHERE a.job_id = j.id AND a.outcome = 'running' AND j.state = 'running' AND a.number = j.attempt_count;
        DELETE FROM attempts a USING jobs j WHERE j.attempt_id = a.id AND a.outcome = 'running';
        -- A running job without its attempt row gets an attempt id and no node: the leader's
        -- rescue ends it interrupted and runs it again.
        UPDATE jobs SET attempt_id = nextval('attempts_id_seq'), started_at = updated_at
            WHERE state = 'running' AND attempt_id IS NULL;
        -- The attempt id is set exactly while the job runs: a finish fenced by it is fenced
        -- by the state too.
        ALTER TABLE jobs ADD CONSTRAINT jobs_attempt CHECK ((state = 'running') = (attempt_id IS NOT NULL));
        -- A running attempt whose job has moved on was already over: it ends interrupted.
        UPDATE attempts SET outcome = 'interrupted', finished_at = now(), error_code = 'interrupted',
            error_message = 'the attempt was left running by an older jobd'
            WHERE outcome = 'running';
        -- A node of an older version, still running against this schema, fails its claims
        -- here instead of starting attempts that nothing would see (docs/postgres.md,
        -- "Upgrades").
        ALTER TABLE attempts ADD CONSTRAINT attempts_ended CHECK (outcome <> 'running');
        DROP INDEX attempts_running;
        -- The rescue's and each node's running count.
        CREATE INDEX jobs_running ON jobs (node_id) WHERE state = 'running';
        -- Lists by state and kind: jobs_state and jobs_kind indexed every version of every
        -- row (no update could be HOT); lists of finished jobs by state use jobs_ended, the
        -- others walk the primary key backwards to their LIMIT.
        DROP INDEX jobs_state;
        DROP INDEX jobs_kind;
        CREATE INDEX jobs_ended ON jobs (state, id) WHERE state IN ('succeeded', 'failed', 'cancelled');
        """,
        batches,
        dependencies,
        sharing,
        schedules,
    ]

    /// Brings the schema up to date.
    ///
    /// - Throws: `StoreError` `schema_too_new` when the database is ahead of this binary.
    static func migrate(_ client: PostgresClient, logger: Logger) async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS jobd_migrations (
                    version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())
                """, logger: logger)
            var current = 0
            for try await version in try await connection.query(
                "SELECT coalesce(max(version), 0)::integer FROM jobd_migrations", logger: logger
            ).decode(Int.self) {
                current = version
            }
            guard current <= migrations.count else {
                throw StoreError(
                    .schemaTooNew,
                    "the database's schema is version \(current), newer than the \(migrations.count) this jobd knows: "
                        + "a newer jobd has upgraded it. Run that newer jobd on every node, or restore a pg_dump "
                        + "taken before the upgrade (docs/data.md); this jobd changes nothing"
                )
            }
            for version in (current + 1)...max(current + 1, migrations.count) where version <= migrations.count {
                logger.info("migrating the PostgreSQL schema", metadata: ["schema.version": "\(version)"])
                // One statement per query: the extended protocol takes no more.
                for statement in statements(of: migrations[version - 1]) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO jobd_migrations (version) VALUES (\(version))", logger: logger)
            }
        }
    }

    /// The statements of a migration: its text split at each `;` that ends a line outside a
    /// `$$`-quoted function body (whose own statements end in `;` too).
    static func statements(of migration: String) -> [String] {
        var statements: [String] = []
        var current: [Substring] = []
        var inBody = false
        for line in migration.split(separator: "\n", omittingEmptySubsequences: false) {
            current.append(line)
            if line.ranges(of: "$$").count % 2 == 1 { inBody.toggle() }
            if !inBody, line.hasSuffix(";") {
                statements.append(current.joined(separator: "\n"))
                current = []
            }
        }
        statements.append(current.joined(separator: "\n"))
        return statements.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .map { $0.hasSuffix(";") ? String($0.dropLast()) : $0 }
            .filter { statement in
                statement.split(separator: "\n").contains { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("--") }
            }
    }
}
