import Foundation
import JobdStore
import JobdStorePostgres
import JobdTestSupport
import Testing

/// The schema's migrations: nodes starting together migrate once, and a database newer
/// than the binary is refused with a clear error.
@Suite struct MigrationTests {
    @Test("three nodes opening a new database at once migrate it once, to the latest version")
    func concurrentOpenMigratesOnce() async throws {
        try await withPostgres { url in
            let stores = try await withThrowingTaskGroup(of: PostgresJobStore.self) { group in
                for index in 0..<3 {
                    group.addTask { try await openTestStore(url: url, node: "node-\(index)") }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(stores.count == 3)
            let cluster = try await sharedPostgresCluster()
            let database = String(url.split(separator: "/").last?.split(separator: "?").first ?? "")
            let versions = try await cluster.psql(database, "SELECT version FROM jobd_migrations ORDER BY version")
            #expect(versions.split(separator: "\n") == ["1", "2"])
            // Version 2: the key index is partial, and keys are still unique.
            let indexes = try await cluster.psql(
                database, "SELECT indexdef FROM pg_indexes WHERE tablename = 'jobs' AND indexname = 'jobs_key'")
            #expect(indexes.contains("WHERE (idempotency_key IS NOT NULL)"), "\(indexes)")
            await OpenStores.shared.closeAll(url: url)
        }
    }

    @Test("a database whose schema is newer than this jobd knows is refused: schema_too_new, naming both versions")
    func newerSchemaIsRefused() async throws {
        try await withPostgres { url in
            _ = try await openTestStore(url: url, node: "node-a")
            await OpenStores.shared.closeAll(url: url)
            let cluster = try await sharedPostgresCluster()
            let database = String(url.split(separator: "/").last?.split(separator: "?").first ?? "")
            try await cluster.psql(database, "INSERT INTO jobd_migrations (version) VALUES (99)")
            do {
                _ = try await openTestStore(url: url, node: "node-b")
                Issue.record("a schema of version 99 was accepted")
            } catch let error as StoreError {
                #expect(error.code == .schemaTooNew, "\(error)")
                #expect(error.message.contains("99") && error.message.contains("upgrade jobd"), "\(error.message)")
            }
            await OpenStores.shared.closeAll(url: url)
        }
    }
}
