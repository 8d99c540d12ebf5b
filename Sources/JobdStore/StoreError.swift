/// A failure of the store, holding the engine's own code when the engine raised it.
///
/// The server maps `disk_full` to 507 `disk_full`, `busy` to 503 `database_busy`, and
/// `read_only`, `io_error`, `corrupt` and `unavailable` to 503 `database_unavailable`; anything else is
/// `internal`. The dispatcher keeps ended attempts in memory and retries a failed write
/// whatever its code. At start-up, `corrupt` is exit 65 and any other code exit 1.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// A stable error code, compared by its raw string.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// `SQLITE_FULL`: the file system holding the database (or its `-wal`) is full.
        /// A full disk quota is `io_error`: SQLite reports `EDQUOT` as a write error.
        public static let diskFull = Code(rawValue: "disk_full")
        /// `SQLITE_BUSY`/`SQLITE_LOCKED`: another connection or process holds a lock.
        public static let busy = Code(rawValue: "busy")
        /// `SQLITE_READONLY`/`SQLITE_PERM`/`SQLITE_CANTOPEN`: the file cannot be written or opened.
        public static let readOnly = Code(rawValue: "read_only")
        /// `SQLITE_CORRUPT`/`SQLITE_NOTADB`: the file is not a healthy SQLite database.
        public static let corrupt = Code(rawValue: "corrupt")
        /// `SQLITE_IOERR`: the operating system failed a read, write or sync (a failing
        /// disk, a file system remounted read-only after errors, a full quota).
        public static let ioError = Code(rawValue: "io_error")
        /// The backlog is at its `max_queued` cap; nothing of the insert was stored.
        public static let queueFull = Code(rawValue: "queue_full")
        /// An idempotency key is already taken by a job of another submitter; nothing of the
        /// insert was stored.
        public static let keyTaken = Code(rawValue: "key_taken")
        /// A job named in `after` does not exist or belongs to another submitter; nothing
        /// of the insert was stored. `field` names the entry (`jobs[3].after[1]`).
        public static let unknownDependency = Code(rawValue: "unknown_dependency")
        /// Stored data did not decode (a bug or a hand-edited row).
        public static let badData = Code(rawValue: "bad_data")
        /// Any other failure of the SQLite engine.
        public static let sqlite = Code(rawValue: "sqlite")
        /// The database server cannot be reached, or the connection broke (PostgreSQL). A
        /// write that met it mid-commit may or may not be stored.
        public static let unavailable = Code(rawValue: "unavailable")
        /// The database's schema is newer than this binary knows: an older jobd must not
        /// write to it.
        public static let schemaTooNew = Code(rawValue: "schema_too_new")
        /// The engine does not do this; the message says what does (PostgreSQL is backed
        /// up with `pg_dump`).
        public static let unsupported = Code(rawValue: "unsupported")
        /// Any other failure of the PostgreSQL engine.
        public static let postgres = Code(rawValue: "postgres")
    }

    /// The stable code.
    public var code: Code
    /// What failed, with the engine's message.
    public var message: String
    /// The engine's own code, when the engine raised the error: SQLite's primary result
    /// code in decimal (`"13"` for `SQLITE_FULL`).
    public var underlyingCode: String?
    /// The request field the error is about, when there is one (`unknown_dependency`).
    public var field: String?

    /// Makes an error.
    ///
    /// - Parameters:
    ///   - code: The stable code.
    ///   - message: What failed.
    ///   - underlyingCode: The engine's own code, if it raised the error.
    public init(_ code: Code, _ message: String, underlyingCode: String? = nil, field: String? = nil) {
        self.code = code
        self.message = message
        self.underlyingCode = underlyingCode
        self.field = field
    }

    public var description: String { "\(message) [\(code)]" }
}
