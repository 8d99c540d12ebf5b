import Foundation
import JobdStore
import JobdStoreSQLite
import Testing

@Suite struct DatabaseLockTests {
    @Test("a second lock on the same database fails busy while the first is held")
    func secondLockIsBusy() async throws {
        try await withTemporaryDatabasePath { path in
            let first = try DatabaseLock(databasePath: path)
            #expect(first.path == path + ".lock")
            let error = await expectStoreError(.busy) { _ = try DatabaseLock(databasePath: path) }
            #expect(error?.message.contains(path) == true)
            withExtendedLifetime(first) {}
        }
    }

    @Test("the lock can be taken again once released")
    func relockAfterRelease() async throws {
        try await withTemporaryDatabasePath { path in
            var first: DatabaseLock? = try DatabaseLock(databasePath: path)
            await expectStoreError(.busy) { _ = try DatabaseLock(databasePath: path) }
            #expect(first != nil)
            first = nil
            let second = try DatabaseLock(databasePath: path)
            #expect(FileManager.default.fileExists(atPath: second.path))
        }
    }

    @Test("locks on different databases do not conflict")
    func differentDatabases() async throws {
        try await withTemporaryDirectory { directory in
            let a = try DatabaseLock(databasePath: directory + "/a.sqlite")
            let b = try DatabaseLock(databasePath: directory + "/b.sqlite")
            #expect(a.path != b.path)
        }
    }

    @Test("taking the lock creates a missing parent directory")
    func createsDirectory() async throws {
        try await withTemporaryDirectory { directory in
            let lock = try DatabaseLock(databasePath: directory + "/sub/jobs.sqlite")
            #expect(FileManager.default.fileExists(atPath: lock.path))
        }
    }
}
