/// An engine the daemon opens without naming its type.
///
/// The `jobd` executable picks the engine and hands it to `Daemon.run`, so `JobdDaemon`,
/// like the runtime and the server, imports no engine: the wiring stays the same when a
/// second engine (PostgreSQL, selected by `database.url`) joins the first.
public protocol StoreEngine: Sendable {
    /// The engine's name for logs ("sqlite").
    var name: String { get }

    /// Opens the store `settings` describe, creating and migrating it as needed, and takes
    /// whatever lock makes this process its only user.
    ///
    /// Blocking I/O: call it off the cooperative pool (on the NIO thread pool).
    ///
    /// - Throws: `StoreError` (`busy` when another process holds the store, `corrupt`,
    ///   `read_only`, `disk_full`, `io_error`).
    func open(_ settings: StoreSettings) throws -> OpenedStore
}

/// What the daemon's configuration says about the store, in engine-neutral terms.
public struct StoreSettings: Sendable, Equatable {
    /// The database file (`database.path`).
    public var databasePath: String
    /// How durable a commit is (`database.synchronous`).
    public var durability: StoreDurability

    public init(databasePath: String, durability: StoreDurability = .full) {
        self.databasePath = databasePath
        self.durability = durability
    }
}

/// How durable a commit is before the client hears of it.
///
/// Every engine has the trade: SQLite's `synchronous` FULL or NORMAL, PostgreSQL's
/// `synchronous_commit` on or off.
public enum StoreDurability: String, Sendable, CaseIterable {
    /// A commit is on stable storage before the reply: it survives a power cut. The default.
    case full
    /// A commit survives a crash of the process, not necessarily a power cut.
    case normal
}

/// An open store with the engine's lifecycle hooks.
public struct OpenedStore: Sendable {
    /// The store, for the runtime and the server.
    public let store: any JobStore
    /// A test hook (`JOBD_TEST_HANG_WRITER`): makes every later write hang, so a test can
    /// see the watchdog pings stop.
    public let hangWriterForTesting: @Sendable () -> Void
    /// Closes the store and releases its lock. Blocking: off the cooperative pool.
    public let close: @Sendable () throws -> Void

    public init(
        store: any JobStore, hangWriterForTesting: @escaping @Sendable () -> Void,
        close: @escaping @Sendable () throws -> Void
    ) {
        self.store = store
        self.hangWriterForTesting = hangWriterForTesting
        self.close = close
    }
}
