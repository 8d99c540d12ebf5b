import Foundation
import GRDB
import JobdModel

/// How hard SQLite works to make a commit durable.
public enum SynchronousMode: String, Sendable, CaseIterable {
    /// fsync on every commit: a commit survives a power cut. The default.
    case full = "FULL"
    /// fsync at checkpoints only: a commit survives a process crash, not a power cut.
    case normal = "NORMAL"
}

/// Settings of the store.
public struct StoreOptions: Sendable {
    /// How durable a commit is.
    public var synchronous: SynchronousMode
    /// How many reader connections may run at once.
    public var maxReaders: Int
    /// How long a write waits for a lock held by another process before it fails `busy`.
    public var busyTimeout: Duration

    public init(synchronous: SynchronousMode = .full, maxReaders: Int = 4, busyTimeout: Duration = .seconds(5)) {
        self.synchronous = synchronous
        self.maxReaders = maxReaders
        self.busyTimeout = busyTimeout
    }
}

/// The jobs database: SQLite through GRDB, the only code that touches SQLite.
///
/// Reads use the pool's reader connections (WAL lets them run beside the writer). Every
/// write goes through one `GroupCommitWriter`, so concurrent submits, claims and finishes
/// share transactions and fsyncs. All SQLite work runs on GRDB's own dispatch queues:
/// callers suspend, they never block the cooperative pool or a NIO event loop.
public final class JobStore: Sendable {
    /// The database file.
    public let path: String
    let pool: DatabasePool
    let writer: GroupCommitWriter
    /// Specs of just-inserted jobs, for their claims.
    let recentSpecs = RecentSpecs()

    /// Opens (creating if needed) the database at `path` and migrates it to the current schema.
    ///
    /// Creates the parent directory (mode 0700) when it is missing. Opening is blocking file
    /// I/O: call it before serving, or from a thread that may block.
    ///
    /// - Throws: `StoreError` with `corrupt` (not a database), `read_only` (cannot be opened
    ///   or written), or `sqlite`.
    public init(path: String, options: StoreOptions = StoreOptions()) throws {
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
        let busy = options.busyTimeout.components
        configuration.busyMode = .timeout(Double(busy.seconds) + Double(busy.attoseconds) / 1e18)
        let synchronous = options.synchronous.rawValue
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
            // A quick structural check, so a damaged file stops the start with its name
            // instead of failing later in the middle of a job.
            let check = try pool.read { db in try String.fetchOne(db, sql: "PRAGMA quick_check") }
            guard check == "ok" else {
                throw StoreError(.corrupt, "\(path) failed its integrity check: \(check ?? "no answer")")
            }
        } catch {
            throw StoreError(wrapping: error, context: "cannot open the database \(path)")
        }
        writer = GroupCommitWriter(pool: pool)
    }

    /// Write transactions committed and operations they held since the store opened.
    public var writeStatistics: (commits: Int, operations: Int) { writer.statistics }

    /// Closes every connection. Further calls throw.
    public func close() throws {
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
    func read<T: Sendable>(_ context: String, _ operation: @escaping @Sendable (Database) throws -> T) async throws -> T
    {
        do {
            return try await pool.read(operation)
        } catch {
            throw StoreError(wrapping: error, context: context)
        }
    }
}
