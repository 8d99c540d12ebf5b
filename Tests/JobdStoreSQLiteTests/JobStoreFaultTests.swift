import Foundation
import GRDB
import JobdModel
import JobdStore
import Testing

@testable import JobdStoreSQLite

/// Store behaviour behind the storage-fault answers (issue 6): the codes SQLite failures
/// map to, the durability setting the writer really uses, and a damaged file left alone.
@Suite struct JobStoreFaultTests {
    @Test(
        "SQLite's primary codes map to stable store codes",
        arguments: [
            (ResultCode.SQLITE_FULL, StoreError.Code.diskFull), (.SQLITE_BUSY, .busy), (.SQLITE_LOCKED, .busy),
            (.SQLITE_READONLY, .readOnly), (.SQLITE_PERM, .readOnly), (.SQLITE_CANTOPEN, .readOnly),
            (.SQLITE_CORRUPT, .corrupt), (.SQLITE_NOTADB, .corrupt), (.SQLITE_IOERR, .ioError),
            (.SQLITE_IOERR_WRITE, .ioError), (.SQLITE_IOERR_FSYNC, .ioError), (.SQLITE_READONLY_DBMOVED, .readOnly),
            (.SQLITE_MISUSE, .sqlite),
        ])
    func mapping(_ code: ResultCode, _ expected: StoreError.Code) {
        let error = StoreError(wrapping: DatabaseError(resultCode: code, message: "boom"), context: "doing it")
        #expect(error.code == expected)
        #expect(error.message == "doing it: boom")
        #expect(error.underlyingCode == String(code.primaryResultCode.rawValue))
    }

    @Test("the writer commits with the configured synchronous mode (GRDB's WAL set-up must not lower FULL)")
    func synchronousMode() async throws {
        for mode in SynchronousMode.allCases {
            try await withTemporaryDatabasePath { path in
                let store = try SQLiteJobStore(path: path, options: SQLiteStoreOptions(synchronous: mode))
                defer { try? store.close() }
                let value = try await store.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
                #expect(value == (mode == .full ? 2 : 1), "\(mode)")
                // And no dirty page is spilled to the WAL before COMMIT.
                let spill = try await store.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA cache_spill") }
                #expect(spill == 0)
            }
        }
    }

    @Test("a database whose pages are damaged fails corrupt, names the file, and is not written to")
    func damagedPagesLeftAlone() async throws {
        try await withTemporaryDatabasePath { path in
            let store = try SQLiteJobStore(path: path)
            for n in 0..<200 { _ = try await store.insertOne(.delay(value: .string("\(n)"))) }
            try store.close()
            // The close checkpointed everything into the main file (the WAL is empty or gone).
            let wal = (try? FileManager.default.attributesOfItem(atPath: path + "-wal"))?[.size] as? Int
            #expect(wal ?? 0 == 0)
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
            try handle.seek(toOffset: 4096)
            try handle.write(contentsOf: Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }))
            try handle.close()
            let damaged = try Data(contentsOf: URL(fileURLWithPath: path))

            let error = await expectStoreError(.corrupt) { _ = try SQLiteJobStore(path: path) }
            #expect(error?.message.contains(path) == true, "\(String(describing: error))")
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == damaged, "the damaged file was written to")
        }
    }

    @Test("a database file that cannot be written fails read_only at the first write, naming no SQL")
    func readOnlyFile() async throws {
        try await withTemporaryDatabasePath { path in
            let store = try SQLiteJobStore(path: path)
            _ = try await store.insertOne(.delay())
            try store.close()
            // Opened read-only (as SQLite does when the file cannot be opened for writing).
            var configuration = Configuration()
            configuration.readonly = true
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            defer { try? queue.close() }
            do {
                try await queue.write { db in try db.execute(sql: "DELETE FROM jobs") }
                Issue.record("a read-only connection wrote")
            } catch {
                #expect(StoreError(wrapping: error, context: "x").code == .readOnly, "\(error)")
            }
        }
    }
    @Test("the writer probe answers while another connection holds the write lock; a write fails busy")
    func probeUnderLock() async throws {
        try await withTemporaryDatabasePath { path in
            let store = try SQLiteJobStore(path: path, options: SQLiteStoreOptions(busyTimeout: .milliseconds(200)))
            defer { try? store.close() }
            var configuration = Configuration()
            // The transaction stays open on the holder's connection between the two calls.
            configuration.allowsUnsafeTransactions = true
            let holder = try DatabaseQueue(path: path, configuration: configuration)
            defer { try? holder.close() }
            try await holder.writeWithoutTransaction { db in try db.execute(sql: "BEGIN IMMEDIATE") }
            // A write waits out the busy timeout and fails; the probe behind it is answered,
            // not failed: a lock held by another process is not a hung writer.
            await expectStoreError(.busy) { _ = try await store.insertOne(.delay()) }
            try await store.probe()
            try await holder.writeWithoutTransaction { db in try db.execute(sql: "COMMIT") }
            _ = try await store.insertOne(.delay())
        }
    }
}
