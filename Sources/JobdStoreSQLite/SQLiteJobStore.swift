import CSQLiteSetup
import Foundation
import GRDB
import JobdModel
import JobdStore
import Synchronization

/// The jobs database: SQLite through GRDB, the only code that touches SQLite.
///
/// Reads use the pool's reader connections (WAL lets them run beside the writer). Every
/// write goes through one `GroupCommitWriter`, so concurrent submits, claims and finishes
/// share transactions and fsyncs. All SQLite work runs on GRDB's own dispatch queues:
/// callers suspend, they never block the cooperative pool or a NIO event loop.
public final class SQLiteJobStore: JobStore {
    /// The database file.
    public let path: String
    let pool: DatabasePool
    let writer: GroupCommitWriter
    /// Specs of just-inserted jobs, for their claims.
    let recentSpecs = RecentSpecs()
    /// The fair-share ranks (`FairRanks`): the writer's state.
    let fairRanks = FairRanks()
    /// Which queue index exists: a claim builds the one its order walks first when it does
    /// not (`applyQueueIndexes`).
    let queueIndexes = Mutex(QueueIndexes(queue: true, fair: false))
    /// The change feed's handlers.
    private let subscribers = Mutex<[@Sendable (StoreChange) -> Void]>([])

    /// SQLite's process-wide settings (`jobd_sqlite_setup`: no memory statistics, whose
    /// mutex every allocation took), made once, before the first connection opens. When
    /// something in the process opened SQLite earlier, they are not made, and nothing
    /// else changes.
    static let processSetup: Int32 = jobd_sqlite_setup()

    /// Opens (creating if needed) the database at `path` and migrates it to the current schema.
    ///
    /// Creates the parent directory (mode 0700) when it is missing. Opening is blocking file
    /// I/O: call it before serving, or from a thread that may block.
    ///
    /// - Throws: `StoreError` with `corrupt` (not a database, or its quick check failed;
    ///   the message names the file), `read_only` (cannot be opened or written), `busy`
    ///   (another process holds a lock past the busy timeout), `disk_full`, `io_error`,
    ///   `schema_too_new` (a newer jobd migrated it; nothing is changed), or `sqlite`. A
    ///   file that fails the check is not migrated.
    public init(path: String, options: SQLiteStoreOptions = SQLiteStoreOptions()) throws {
        _ = Self.processSetup
        self.path = path
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(
                    atPath: directory, withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o700])
            } catch {
                throw StoreError(
                    .readOnly, "cannot create the database directory \(directory): \(error.localizedDescription)")
            }
        }
        var configuration = Configuration()
        configuration.label = "jobd"
        configuration.maximumReaderCount = options.maxReaders
        configuration.busyMode = .timeout(options.busyTimeout.secondsValue)
        let synchronous = options.synchronous.rawValue
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
            // No dirty page reaches the WAL before COMMIT. A spill in the middle of a group
            // transaction that meets a full disk makes SQLite roll the whole transaction
            // back, and the callers then see GRDB's "Transaction was aborted" instead of
            // `disk_full`. Without spills a full disk fails the COMMIT itself, with its
            // own code. A transaction's dirty pages stay in memory: at most a few times the
            // size of the request bodies it stores.
            try db.execute(sql: "PRAGMA cache_spill = OFF")
            // Statement journals in memory: every group operation runs in a savepoint, and
            // SQLite keeps the original of each page a savepoint changes in a sub-journal,
            // a temporary file once it passes 64 KiB. Those pwrites were a fifth of W1's
            // CPU (docs/benchmarks.md); in memory they are memcpys of pages the transaction
            // holds anyway, freed at its end, and a full disk cannot fail them.
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        do {
            try Self.check(path: path, busyMode: configuration.busyMode)
            pool = try DatabasePool(path: path, configuration: configuration)
            // GRDB's WAL set-up runs after `prepareDatabase` and sets `synchronous = NORMAL`
            // on the writer: set the configured mode again, or FULL would never be in effect.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = \(synchronous)") }
            try Self.refuseNewerSchema(in: pool, path: path)
            try Self.migrator.migrate(pool)
            let indexes = try Self.applyQueueIndexes(options.fairShare, in: pool)
            queueIndexes.withLock { $0 = indexes }
        } catch {
            throw StoreError(wrapping: error, context: "cannot open the database \(path)")
        }
        writer = GroupCommitWriter(pool: pool)
        writer.setTransactionEnd(
            GroupCommitWriter.TransactionEnd(
                collect: { db in
                    // Dependencies first: a cancelled child may end its batch.
                    let transitions = try Self.propagateDependencies(db)
                    let ends = try Self.drainBatchOutbox(db)
                    return (transitions.isEmpty ? [] : [.dependencies(transitions)])
                        + ends.map { end in
                            .batchCompleted(
                                BatchCompletion(
                                    batchID: BatchID(end.batchID), state: BatchState(rawValue: end.state) ?? .failed,
                                    onCompleteID: end.onCompleteID.map { JobID($0) },
                                    submitterUID: end.submitterUID.map { UInt32(truncatingIfNeeded: $0) }))
                        }
                },
                announce: { [weak self] changes in self?.announce(changes) }))
    }

    /// A quick structural check of an existing file, through a read-only connection of its
    /// own, so a damaged file stops the start with its name instead of failing later in the
    /// middle of a job.
    ///
    /// It runs before the pool opens: opening a pool on a database whose `-wal` is missing
    /// or empty writes to it (GRDB creates and drops a table), and a damaged file must be
    /// left as it was found, for `.recover`.
    ///
    /// - Throws: `StoreError` `corrupt`, or the error of opening or reading the file.
    private static func check(path: String, busyMode: Database.BusyMode) throws {
        let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int
        guard let size, size > 0 else { return }
        var configuration = Configuration()
        configuration.label = "jobd.check"
        configuration.readonly = true
        configuration.busyMode = busyMode
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? queue.close() }
        let check = try queue.read { db in try String.fetchOne(db, sql: "PRAGMA quick_check") }
        guard check == "ok" else {
            throw StoreError(
                .corrupt, "the database \(path) is damaged: its integrity check found \(check ?? "no answer")")
        }
    }

    /// Refuses a database that a newer jobd migrated: one whose applied migrations include
    /// any this binary does not know. GRDB's migrator would skip them silently, and this
    /// binary would then write rows that the newer schema does not expect.
    ///
    /// - Throws: `StoreError` `schema_too_new`, naming the unknown migrations and what to do.
    private static func refuseNewerSchema(in pool: DatabasePool, path: String) throws {
        let applied = try pool.read { db in try migrator.appliedIdentifiers(db) }
        let unknown = applied.subtracting(migrator.migrations).sorted()
        guard unknown.isEmpty else {
            throw StoreError(
                .schemaTooNew,
                "the database \(path) has schema migrations \(unknown.joined(separator: ", ")) that this jobd "
                    + "(\(migrator.migrations.last ?? "none") at most) does not know: a newer jobd has upgraded it. "
                    + "Install that newer jobd again, or restore a backup taken before the upgrade "
                    + "(docs/data.md); this jobd leaves the file as it is")
        }
    }

    /// Write transactions committed and operations they held since the store opened.
    public var statistics: StoreStatistics {
        let counters = writer.statistics
        return StoreStatistics(commits: counters.commits, operations: counters.operations)
    }

    /// The database file's path.
    public var location: String { path }

    public func subscribe(_ handler: @escaping @Sendable (StoreChange) -> Void) {
        subscribers.withLock { $0.append(handler) }
    }

    /// Hands committed changes to every subscriber; runs on the writer queue right after
    /// the commit, so changes arrive in commit order.
    func announce(_ changes: [StoreChange]) {
        guard !changes.isEmpty else { return }
        let handlers = subscribers.withLock { $0 }
        for change in changes {
            for handler in handlers { handler(change) }
        }
    }

    /// Checkpoints the WAL into the main file, then closes every connection. Further calls
    /// throw.
    ///
    /// GRDB closes the writer before the readers, and SQLite leaves the WAL alone when the
    /// connection that closes last is read-only: without the explicit checkpoint a stopped
    /// daemon would leave every change since the last automatic checkpoint in `-wal`
    /// (durable, but the main file alone would be no copy of the jobs). The checkpoint is
    /// best effort: when it cannot finish (a full disk, another process reading), the WAL
    /// stays and the next open replays it.
    public func close() throws {
        _ = try? pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
        try pool.close()
    }

    /// Runs a write operation in the next group transaction, wrapping errors as `StoreError`.
    func write<T: Sendable>(
        _ context: String, afterCommit: (@Sendable (T) -> Void)? = nil,
        _ operation: @escaping @Sendable (Database) throws -> T
    ) async throws -> T {
        do {
            return try await writer.write(operation, afterCommit: afterCommit)
        } catch {
            throw StoreError(wrapping: error, context: context)
        }
    }

    /// Runs a read on a reader connection, wrapping errors as `StoreError`.
    ///
    /// On a request thread (`RequestExecutor`) the read runs right there, on a reader
    /// connection taken from the pool; elsewhere it hops to the reader's queue and back, so
    /// the cooperative pool never blocks on SQLite.
    func read<T: Sendable>(_ context: String, _ operation: @escaping @Sendable (Database) throws -> T) async throws -> T
    {
        do {
            if RequestExecutor.isCurrentThread { return try Self.readOnThisThread(pool, operation) }
            return try await pool.read(operation)
        } catch {
            throw StoreError(wrapping: error, context: context)
        }
    }

    /// GRDB's blocking read (a function that is not `async`, so the blocking overload is
    /// the one called).
    private static func readOnThisThread<T>(_ pool: DatabasePool, _ operation: (Database) throws -> T) throws -> T {
        try pool.read(operation)
    }
}
