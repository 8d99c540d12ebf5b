import Foundation
import JobdStore
import JobdStorePostgres
import JobdTestSupport
import Logging
import Synchronization

/// A store on `url` for node `node`, with a short lease so tests see expiry quickly.
func openTestStore(url: String, node: String, lease: Duration = .seconds(3)) async throws -> PostgresJobStore {
    let settings = ClusterSettings(
        url: try DatabaseURL(parsing: url), poolSize: 4, nodeName: node, lease: lease, version: "test", workers: 4)
    // With the fair-share index, which the conformance suite's fair claims walk.
    let store = try await PostgresJobStore.open(
        settings, fairShare: .perUID, logger: Logger(label: "jobd.test.postgres"))
    OpenStores.shared.keep(store)
    return store
}

/// Runs `body` with a store on a new database, and closes every store it opened.
func withPostgresStore(
    lease: Duration = .seconds(3), _ body: (PostgresJobStore, String) async throws -> Void
) async throws {
    try await withPostgres { url in
        let store = try await openTestStore(url: url, node: "node-a", lease: lease)
        do {
            try await body(store, url)
        } catch {
            await OpenStores.shared.closeAll(url: url)
            throw error
        }
        await OpenStores.shared.closeAll(url: url)
    }
}

/// Stores opened by tests, closed at the end of theirs.
final class OpenStores: Sendable {
    static let shared = OpenStores()
    private let stores = Mutex<[PostgresJobStore]>([])

    func keep(_ store: PostgresJobStore) { stores.withLock { $0.append(store) } }

    func closeAll(url: String) async {
        let database = (try? DatabaseURL(parsing: url))?.description
        let mine = stores.withLock { stores in
            let mine = stores.filter { $0.location == database }
            stores.removeAll { $0.location == database }
            return mine
        }
        for store in mine { await store.close() }
    }
}
