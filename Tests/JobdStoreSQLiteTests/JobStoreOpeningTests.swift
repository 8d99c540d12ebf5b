import Foundation
import GRDB
import JobdModel
import JobdStore
import JobdStoreSQLite
import Testing

@Suite struct JobStoreOpeningTests {
    /// The table names of a database file, read through a connection of the test's own.
    static func tables(at path: String) throws -> Set<String> {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.read { db in
            Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'"))
        }
    }

    /// A connection of the test's own that may keep a transaction open between accesses,
    /// standing in for another process holding the write lock.
    static func lockHolder(path: String) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.allowsUnsafeTransactions = true
        configuration.busyMode = .immediateError
        return try DatabaseQueue(path: path, configuration: configuration)
    }

    @Test("opening an empty file migrates it to the jobs and attempts tables")
    func migratesEmptyFile() async throws {
        try await withTemporaryDatabasePath { path in
            #expect(FileManager.default.createFile(atPath: path, contents: Data()))
            let store = try SQLiteJobStore(path: path)
            #expect(try await store.counts() == JobCounts())
            try store.close()
            let tables = try Self.tables(at: path)
            #expect(tables.isSuperset(of: ["jobs", "attempts"]))
        }
    }

    @Test("reopening a migrated database keeps its jobs")
    func reopens() async throws {
        try await withTemporaryDatabasePath { path in
            let first = try SQLiteJobStore(path: path)
            let id = try await first.insertOne(.delay(value: "kept"))
            try first.close()

            let second = try SQLiteJobStore(path: path)
            defer { try? second.close() }
            let record = try await second.requireJob(id)
            #expect(record.state == .queued)
            #expect(record.spec.payload == .delay(DelaySpec(seconds: 1, value: "kept")))
            #expect(second.path == path)
        }
    }

    @Test("opening a path in a missing directory creates the directory")
    func createsDirectory() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/nested/deeper/jobs.sqlite"
            let store = try SQLiteJobStore(path: path)
            defer { try? store.close() }
            _ = try await store.insertOne(.delay())
            #expect(FileManager.default.fileExists(atPath: path))
        }
    }

    @Test("opening a file of garbage bytes fails corrupt and names the path")
    func garbageIsCorrupt() async throws {
        try await withTemporaryDatabasePath { path in
            let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) })
            #expect(FileManager.default.createFile(atPath: path, contents: garbage))
            let error = await expectStoreError(.corrupt) { _ = try SQLiteJobStore(path: path) }
            #expect(error?.message.contains(path) == true, "\(String(describing: error))")
        }
    }

    @Test("a write while another connection holds the write lock fails busy")
    func writeLockHeldIsBusy() async throws {
        try await withTemporaryDatabasePath { path in
            let store = try SQLiteJobStore(path: path, options: SQLiteStoreOptions(busyTimeout: .zero))
            defer { try? store.close() }
            let other = try Self.lockHolder(path: path)
            defer { try? other.close() }
            try other.inDatabase { db in try db.execute(sql: "BEGIN IMMEDIATE") }

            let error = await expectStoreError(.busy) { _ = try await store.insertOne(.delay()) }
            #expect(error?.underlyingCode == "5")  // SQLITE_BUSY

            try other.inDatabase { db in try db.execute(sql: "COMMIT") }
            _ = try await store.insertOne(.delay())
            #expect(try await store.counts().queued == 1)
        }
    }

    @Test(
        "a sub-second busy timeout is honoured, not truncated to zero")
    func subSecondBusyTimeout() async throws {
        try await withTemporaryDatabasePath { path in
            let store = try SQLiteJobStore(path: path, options: SQLiteStoreOptions(busyTimeout: .milliseconds(600)))
            defer { try? store.close() }
            let other = try Self.lockHolder(path: path)
            defer { try? other.close() }
            try other.inDatabase { db in try db.execute(sql: "BEGIN IMMEDIATE") }
            defer { try? other.inDatabase { db in try db.execute(sql: "ROLLBACK") } }

            let clock = ContinuousClock()
            let start = clock.now
            await expectStoreError(.busy) { _ = try await store.insertOne(.delay()) }
            // With the bug the write gives up at once; it must wait for the lock first.
            #expect(clock.now - start >= .milliseconds(500))
        }
    }
}
