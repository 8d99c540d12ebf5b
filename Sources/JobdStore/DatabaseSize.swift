/// How much space a database takes, as its engine measures it.
public struct DatabaseSize: Sendable, Hashable {
    /// The database's size in bytes. SQLite: pages × page size, the size the main file
    /// has once the WAL is checkpointed. PostgreSQL: jobd's tables with their indexes and
    /// TOAST (`pg_total_relation_size`), not the rest of the database.
    public var bytes: Int64
    /// Bytes of free pages inside that size, which `vacuum()` gives back; nil when the
    /// engine does not tell (PostgreSQL, whose autovacuum reuses them in place).
    public var freeBytes: Int64?
    /// The size of the write-ahead log beside the database file (SQLite's `-wal`); nil
    /// when the engine's log is not jobd's (PostgreSQL).
    public var walBytes: Int64?

    /// Describes a size.
    ///
    /// - Parameters:
    ///   - bytes: The database's size.
    ///   - freeBytes: Reclaimable bytes inside it, if known.
    ///   - walBytes: The write-ahead log's size, if jobd's own.
    public init(bytes: Int64, freeBytes: Int64? = nil, walBytes: Int64? = nil) {
        self.bytes = bytes
        self.freeBytes = freeBytes
        self.walBytes = walBytes
    }
}
