import Foundation
import JobdStore

/// The embedded engine as a `StoreEngine`: a `SQLiteJobStore` under a `DatabaseLock`.
public struct SQLiteEngine: StoreEngine {
    public var name: String { "sqlite" }

    public init() {}

    /// Takes the lock first, so a second daemon on the same file fails `busy` before it
    /// opens (and recovers) a database that the first one is using.
    public func open(_ settings: StoreSettings) async throws -> OpenedStore {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(with: Result { try openBlocking(settings) })
            }
        }
    }

    private func openBlocking(_ settings: StoreSettings) throws -> OpenedStore {
        let lock = try DatabaseLock(databasePath: settings.databasePath)
        // Under the lock: no other daemon's backup can be in progress.
        SQLiteJobStore.removeLeftoverCopies(of: settings.databasePath)
        let store = try SQLiteJobStore(
            path: settings.databasePath,
            options: SQLiteStoreOptions(
                synchronous: SynchronousMode(settings.durability), fairShare: settings.fairShare))
        return OpenedStore(
            store: store, hangWriterForTesting: { store.hangWriterForTesting() },
            close: {
                // Closing checkpoints the WAL: blocking file I/O, on a thread of its own.
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    DispatchQueue.global(qos: .userInitiated).async {
                        continuation.resume(with: Result { try store.close() })
                        withExtendedLifetime(lock) {}
                    }
                }
            })
    }
}

extension SynchronousMode {
    /// SQLite's `synchronous` setting for an engine-neutral durability.
    public init(_ durability: StoreDurability) {
        switch durability {
        case .full: self = .full
        case .normal: self = .normal
        }
    }
}
