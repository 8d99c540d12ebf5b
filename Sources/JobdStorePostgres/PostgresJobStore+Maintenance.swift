import Foundation
import JobdStore
import PostgresNIO

extension PostgresJobStore {
    /// The tables jobd creates, every one of its migrations' (`PostgresMigrations`).
    static let maintainedTables = [
        "jobs", "attempts", "nodes", "leader", "cluster_settings", "batches", "job_dependencies", "job_tags",
        "schedules", "jobd_migrations",
    ]

    /// The size of jobd's tables with their indexes and TOAST (`pg_total_relation_size`).
    ///
    /// jobd's tables, not `pg_database_size`: the database may hold other applications'
    /// tables, and these are what pruning and vacuuming act on. Free space and the WAL are
    /// the server's business (autovacuum reuses dead rows in place; the WAL is shared by
    /// every database of the cluster), so both are nil.
    public func size() async throws -> DatabaseSize {
        let logger = self.logger
        let tables = Self.maintainedTables
        return try await read("cannot measure jobd's tables") { connection in
            var bytes: Int64 = 0
            for try await total in try await connection.query(
                """
                SELECT coalesce(sum(pg_total_relation_size(to_regclass(name))), 0)::bigint
                FROM unnest(\(tables)::text[]) AS name
                """, logger: logger
            ).decode(Int64.self) {
                bytes = total
            }
            return DatabaseSize(bytes: bytes)
        }
    }

    /// Refused: a cluster's database is backed up with PostgreSQL's own tools.
    ///
    /// - Throws: `StoreError` `unsupported`, always.
    public func backup() async throws -> DatabaseCopy {
        throw StoreError(
            .unsupported,
            "jobd does not copy a PostgreSQL database: back it up with pg_dump (pg_dump --format=custom "
                + "--file=jobd.dump DBNAME) or the server's own backups; see docs/data.md")
    }

    /// `VACUUM (ANALYZE)` on jobd's tables: dead rows become reusable and the planner's
    /// statistics fresh, without the exclusive lock of `VACUUM FULL` (the tables' files
    /// shrink only where their tails are empty). Autovacuum does the same on its own
    /// schedule; this is for right after a large prune.
    ///
    /// - Throws: `StoreError`.
    public func vacuum() async throws {
        let logger = self.logger
        let statement = "VACUUM (ANALYZE) " + Self.maintainedTables.joined(separator: ", ")
        // Longer than a read's deadline: a vacuum of a large table takes minutes.
        try await withDeadline(.seconds(3600), "cannot vacuum jobd's tables") {
            try await self.client.withConnection { connection in
                _ = try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
        }
    }
}
