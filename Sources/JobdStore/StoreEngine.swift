/// An engine the daemon opens without naming its type.
///
/// The `jobd` executable picks the engine (SQLite, or PostgreSQL when `database.url` is
/// set) and hands it to `Daemon.run`, so `JobdDaemon`, like the runtime and the server,
/// imports no engine.
public protocol StoreEngine: Sendable {
    /// The engine's name for logs ("sqlite", "postgres").
    var name: String { get }

    /// Opens the store `settings` describe, creating and migrating it as needed, and takes
    /// whatever makes this process its rightful user (SQLite: a file lock; PostgreSQL: the
    /// node's name and lease).
    ///
    /// Never blocks the calling thread: blocking file I/O runs on a thread of its own.
    ///
    /// - Throws: `StoreError` (`busy` when another process holds the store or the node's
    ///   name, `corrupt`, `read_only`, `disk_full`, `io_error`, `unavailable` when the
    ///   database cannot be reached, `schema_too_new`).
    func open(_ settings: StoreSettings) async throws -> OpenedStore
}

/// An open store with the engine's lifecycle hooks.
public struct OpenedStore: Sendable {
    /// The store, for the runtime and the server.
    public let store: any JobStore
    /// A test hook (`JOBD_TEST_HANG_WRITER`): makes every later write hang, so a test can
    /// see the watchdog pings stop.
    public let hangWriterForTesting: @Sendable () -> Void
    /// Closes the store and gives up what `open` took (the lock; the node's lease and its
    /// background work: renewals, the leader's rescues, the change notifications).
    public let close: @Sendable () async throws -> Void

    public init(
        store: any JobStore, hangWriterForTesting: @escaping @Sendable () -> Void,
        close: @escaping @Sendable () async throws -> Void
    ) {
        self.store = store
        self.hangWriterForTesting = hangWriterForTesting
        self.close = close
    }
}
