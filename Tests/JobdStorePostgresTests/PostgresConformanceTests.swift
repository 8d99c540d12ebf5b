import JobdStore
import JobdStoreConformance
import JobdStorePostgres
import JobdTestSupport
import Logging
import Testing

/// The store conformance suite (`StoreConformance`) against the PostgreSQL engine, each
/// case on a new database of a private test cluster, migrated from empty.
@Suite struct PostgresConformanceTests {
    @Test("PostgreSQL engine:", arguments: StoreConformance.cases)
    func conformance(_ check: ConformanceCase) async throws {
        try await withPostgresStore { store, url in
            try await check.run(
                ConformanceSubject(store: store) {
                    // The node dies: its lease is expired and a node of another name opens.
                    try await store.crashForTesting()
                    return try await openTestStore(url: url, node: "reopened")
                })
        }
    }
}
