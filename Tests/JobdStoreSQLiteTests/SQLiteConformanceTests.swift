import JobdStore
import JobdStoreConformance
import JobdStoreSQLite
import Synchronization
import Testing

/// The store conformance suite (`StoreConformance`) against the SQLite engine, each case on
/// a fresh database migrated from empty.
@Suite struct SQLiteConformanceTests {
    @Test("SQLite engine:", arguments: StoreConformance.cases)
    func conformance(_ check: ConformanceCase) async throws {
        try await withTemporaryStore { store in
            let reopened = Reopened()
            defer { reopened.close() }
            try await check.run(
                ConformanceSubject(store: store) {
                    // The first store's process "died": a new one opens the file.
                    let next = try SQLiteJobStore(path: store.path)
                    reopened.keep(next)
                    return next
                })
        }
    }
}

/// Stores a case reopened, closed at its end.
private final class Reopened: Sendable {
    private let stores = Mutex<[SQLiteJobStore]>([])
    func keep(_ store: SQLiteJobStore) { stores.withLock { $0.append(store) } }
    func close() { for store in stores.withLock({ $0 }) { try? store.close() } }
}
