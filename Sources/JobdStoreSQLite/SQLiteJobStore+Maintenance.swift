import Foundation
import GRDB
import JobdStore

extension SQLiteJobStore {
    /// The database's size from the page counts of a reader's snapshot, and the `-wal`
    /// file's size on disk.
    ///
    /// Cheap: three pragmas that read the header and one `stat`, on a reader connection.
    public func size() async throws -> DatabaseSize {
        let walPath = path + "-wal"
        return try await read("cannot measure the database") { db in
            let pageSize = try Int64.fetchOne(db, sql: "PRAGMA page_size") ?? 0
            let pages = try Int64.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            let free = try Int64.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
            // A stat on GRDB's reader queue, not on the cooperative pool.
            let wal =
                ((try? FileManager.default.attributesOfItem(atPath: walPath))?[.size] as? NSNumber)?.int64Value ?? 0
            return DatabaseSize(bytes: pages * pageSize, freeBytes: free * pageSize, walBytes: wal)
        }
    }

    /// Copies the database, through SQLite's online backup API, into a new file beside it.
    ///
    /// The copy runs on a reader connection inside one read transaction, in a single
    /// `sqlite3_backup_step(-1)`: in WAL mode a reader takes no lock that the writer waits
    /// for, so group commits go on during the copy, and the snapshot is the one the
    /// transaction saw first. Stepping in chunks would not free the writer any further,
    /// and outside one held snapshot every commit between two steps would restart the copy
    /// from its first page (docs/decisions.md). The destination needs no durability of its
    /// own (no journal, no fsync); once done it is switched to the rollback journal, so the
    /// file is self-contained and opens without a `-wal` or `-shm`, even read-only.
    ///
    /// - Returns: The copy, `<database>.backup-<random>.tmp`; the caller removes it. A
    ///   daemon that died before that leaves it, and the next open removes it.
    /// - Throws: `StoreError` (`disk_full` when the copy does not fit); no file is left.
    public func backup() async throws -> DatabaseCopy {
        let copyPath = path + ".backup-" + UUID().uuidString.prefix(8).lowercased() + ".tmp"
        do {
            let bytes = try await read("cannot back up the database") { db in
                var configuration = Configuration()
                configuration.label = "jobd.backup"
                let destination = try DatabaseQueue(path: copyPath, configuration: configuration)
                defer { try? destination.close() }
                try destination.writeWithoutTransaction { copy in
                    try copy.execute(sql: "PRAGMA journal_mode = OFF")
                    try copy.execute(sql: "PRAGMA synchronous = OFF")
                    try db.backup(to: copy)
                    // The pages say WAL (they are the source's): make the copy a plain file.
                    try copy.execute(sql: "PRAGMA journal_mode = DELETE")
                }
                let attributes = try FileManager.default.attributesOfItem(atPath: copyPath)
                return (attributes[.size] as? NSNumber)?.int64Value ?? 0
            }
            return DatabaseCopy(path: copyPath, bytes: bytes)
        } catch {
            for suffix in ["", "-journal", "-wal", "-shm"] { unlink(copyPath + suffix) }
            throw error
        }
    }

    /// Rebuilds the database file without its free pages (`VACUUM`), then checkpoints the
    /// WAL so the file shrinks on disk.
    ///
    /// It runs on the writer connection, between two group commits, and holds the write
    /// lock until done: submits, claims and finishes wait that long (2.1 s for a 386 MiB
    /// file holding 119 MiB here, docs/data.md). It needs free disk space for a second copy of the
    /// database (its temporary database and the WAL). Spilling is turned on for the
    /// duration: the writer keeps it off for group commits (see `init`), and a `VACUUM`
    /// without spills would hold every page of the database in memory.
    ///
    /// - Throws: `StoreError` (`disk_full` when the copy does not fit; the database is
    ///   then as it was).
    public func vacuum() async throws {
        do {
            try await pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA cache_spill = ON")
                defer { try? db.execute(sql: "PRAGMA cache_spill = OFF") }
                try db.execute(sql: "VACUUM")
                // Best effort: a reader still on an older snapshot keeps the WAL's tail,
                // and the next automatic checkpoint finishes the job.
                _ = try? db.checkpoint(.truncate)
            }
        } catch {
            throw StoreError(wrapping: error, context: "cannot vacuum the database")
        }
    }

    /// Removes the copies that a daemon which died during a backup left beside the
    /// database (`<database>.backup-*.tmp`); the engine calls it under the database lock,
    /// before opening.
    static func removeLeftoverCopies(of path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        let prefix = (path as NSString).lastPathComponent + ".backup-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory)
        else { return }
        for name in names where name.hasPrefix(prefix) && name.contains(".tmp") {
            unlink((directory.isEmpty ? name : directory + "/" + name))
        }
    }
}
