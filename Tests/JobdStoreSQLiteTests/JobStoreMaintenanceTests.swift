import Foundation
import GRDB
import JobdModel
import JobdStore
import JobdStoreSQLite
import Testing

/// SQLite's side of issue 14's data lifecycle: backups that open, sizes, vacuum, and the
/// refusal of a schema from a newer jobd.
@Suite struct JobStoreMaintenanceTests {
    /// `PRAGMA integrity_check` of a file, through a read-only connection of the test's own.
    static func integrity(of path: String) throws -> [String] {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? queue.close() }
        return try queue.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
    }

    @Test("a backup is a self-contained database that passes integrity_check and opens with every job")
    func backupOpens() async throws {
        try await withTemporaryStore { store in
            _ = try await store.insert((0..<300).map { NewJob.delay(value: .int(Int64($0))) }, now: t0)
            let claimed = try await store.claim(limit: 10, now: t0)
            let copy = try await store.backup()
            defer { unlink(copy.path) }
            #expect(copy.path.hasPrefix(store.path + ".backup-"))
            #expect(try Self.integrity(of: copy.path) == ["ok"])
            // Rollback journal, not WAL: the header's read and write versions are 1.
            let header = try #require(FileHandle(forReadingAtPath: copy.path)).readData(ofLength: 20)
            #expect(Array(header.suffix(2)) == [1, 1])
            let reopened = try SQLiteJobStore(path: copy.path)
            defer { try? reopened.close() }
            let counts = try await reopened.counts()
            #expect(counts.queued == 290 && counts.running == 10)
            // The copy's running attempts are a dead owner's, as after a crash.
            #expect(try await reopened.rescue(now: t0).interruptedAttempts == claimed.count)
        }
    }

    @Test("a backup taken while submits commit holds a prefix of them, whole transactions only")
    func backupDuringWrites() async throws {
        try await withTemporaryStore { store in
            let writing = Task {
                var rounds = 0
                // 200 transactions of 50 jobs: the copy must hold a multiple of 50.
                while rounds < 200 {
                    _ = try await store.insert((0..<50).map { NewJob.delay(value: .int(Int64($0))) }, now: t0)
                    rounds += 1
                }
                return rounds
            }
            // Wait until some transactions committed, so the copy lands among them.
            let deadline = ContinuousClock.now + .seconds(30)
            while try await store.counts().queued < 500, ContinuousClock.now < deadline { await Task.yield() }
            let copy = try await store.backup()
            defer { unlink(copy.path) }
            #expect(try await writing.value == 200)
            #expect(try Self.integrity(of: copy.path) == ["ok"])
            let reopened = try SQLiteJobStore(path: copy.path)
            defer { try? reopened.close() }
            let queued = try await reopened.counts().queued
            #expect(queued >= 500 && queued <= 10_000 && queued % 50 == 0, "\(queued) jobs in the copy")
        }
    }

    @Test("size counts pages, free pages after a prune, and the WAL; vacuum frees them")
    func sizeAndVacuum() async throws {
        try await withTemporaryStore { store in
            let filler = String(repeating: "y", count: 4000)
            _ = try await store.insert((0..<400).map { NewJob.delay(value: .string("\($0) \(filler)")) }, now: t0)
            let claimed = try await store.claim(limit: 400, now: t0)
            _ = try await store.settle(
                SettleRequest(
                    finishes: claimed.map {
                        AttemptFinish(attempt: $0.attempt, end: .succeeded(.delay(DelayResult(value: .null))))
                    }, claim: ClaimRequest(limit: 0, now: t0)))
            let full = try await store.size()
            #expect(full.bytes > 400 * 4000)
            #expect(try #require(full.walBytes) > 0)
            #expect(try await store.prune(finishedBefore: t0 + 1, limit: 1000) == 400)
            let pruned = try await store.size()
            #expect(try #require(pruned.freeBytes) > 300 * 4000)
            try await store.vacuum()
            let vacuumed = try await store.size()
            #expect(vacuumed.freeBytes == 0)
            #expect(vacuumed.bytes < pruned.bytes - 300 * 4000)
            // The checkpoint after VACUUM shrank the file on disk too, and emptied the WAL.
            let fileSize = try #require(
                try FileManager.default.attributesOfItem(atPath: store.path)[.size] as? Int64)
            #expect(fileSize == vacuumed.bytes)
            #expect(vacuumed.walBytes == 0)
            // The writer works as before: group commits go on.
            _ = try await store.insert([.delay(value: .int(1))], now: t0)
            #expect(try await store.counts().queued == 1)
        }
    }

    @Test("a database that a newer jobd migrated is refused with schema_too_new, naming what to do")
    func newerSchemaRefused() async throws {
        try await withTemporaryDatabasePath { path in
            let store = try SQLiteJobStore(path: path)
            _ = try await store.insert([.delay(value: .int(1))], now: t0)
            try store.close()
            // A later jobd's migration, unknown to this one.
            let queue = try DatabaseQueue(path: path)
            try await queue.write { db in
                try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99')")
            }
            try queue.close()
            do {
                let reopened = try SQLiteJobStore(path: path)
                try? reopened.close()
                Issue.record("an older jobd opened a newer schema")
            } catch let error as StoreError {
                #expect(error.code == .schemaTooNew)
                #expect(error.message.contains("v99"))
                #expect(error.message.contains("newer jobd"))
                #expect(error.message.contains("restore a backup"))
            }
        }
    }
}
