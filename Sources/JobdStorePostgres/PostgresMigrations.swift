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
                    "the database's schema is version \(current), newer than the \(migrations.count) this jobd knows; upgrade jobd"
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

    /// The statements of a migration: its text split at each `;` that ends a line.
    static func statements(of migration: String) -> [String] {
        migration.components(separatedBy: ";\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .map { $0.hasSuffix(";") ? String($0.dropLast()) : $0 }
            .filter { statement in
                statement.split(separator: "\n").contains { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("--") }
            }
    }
}
