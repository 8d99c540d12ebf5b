import JobdStore
import Logging

/// The cluster engine as a `StoreEngine`: a `PostgresJobStore` on `database.url`.
public struct PostgresEngine: StoreEngine {
    public var name: String { "postgres" }
    let logger: Logger

    /// An engine that logs its connection and lease events to `logger`.
    public init(logger: Logger) {
        self.logger = logger
    }

    public func open(_ settings: StoreSettings) async throws -> OpenedStore {
        guard let cluster = settings.cluster else {
            throw StoreError(.postgres, "the PostgreSQL engine needs database.url")
        }
        let store = try await PostgresJobStore.open(
            cluster, durability: settings.durability, fairShare: settings.fairShare, logger: logger)
        return OpenedStore(
            store: store, hangWriterForTesting: { store.hangWriterForTesting() }, close: { await store.close() })
    }
}
