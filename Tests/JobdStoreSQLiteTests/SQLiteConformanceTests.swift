import JobdStore
import JobdStoreConformance
import JobdStoreSQLite
import Testing

/// The store conformance suite (`StoreConformance`) against the SQLite engine, each case on
/// a fresh database migrated from empty.
@Suite struct SQLiteConformanceTests {
    @Test("SQLite engine:", arguments: StoreConformance.cases)
    func conformance(_ check: ConformanceCase) async throws {
        try await withTemporaryStore { store in try await check.run(store) }
    }
}
