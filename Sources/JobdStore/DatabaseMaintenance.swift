/// The operator's side of a store: how big the database is, a consistent copy of it, and
/// giving free space back. `JobStore` refines it, so every engine answers each call, if only
/// to say it does not do it.
///
/// The answers are the engine's own: SQLite knows its file, its free pages and its WAL;
/// PostgreSQL knows the size of jobd's tables and leaves copies to `pg_dump`
/// (docs/data.md).
public protocol DatabaseMaintenance: Sendable {
    /// How much space the database takes now.
    ///
    /// - Throws: `StoreError`.
    func size() async throws -> DatabaseSize

    /// Writes a consistent copy of the whole database to a new file and returns it; the
    /// caller reads it and then removes it.
    ///
    /// The copy is one snapshot, taken while the store goes on committing: every
    /// transaction committed before it is in the copy, none after. The store's writes are
    /// not held up while it is made. The file is self-contained (no `-wal` beside it) and
    /// a daemon can be started on it.
    ///
    /// - Returns: Where the copy is and how big it is.
    /// - Throws: `StoreError` `unsupported` when the engine is copied by other means
    ///   (PostgreSQL: `pg_dump`), `disk_full` when the copy does not fit beside the
    ///   database, or another storage code.
    func backup() async throws -> DatabaseCopy

    /// Gives the database's free space back to the file system (or marks it reusable),
    /// and returns once done.
    ///
    /// - Important: On SQLite every write waits until it is done: it rewrites the whole
    ///   file while holding the write lock (docs/data.md).
    /// - Throws: `StoreError`.
    func vacuum() async throws
}
