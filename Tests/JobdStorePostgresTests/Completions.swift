import Foundation
import JobdStore
import Synchronization

/// Collects a store's `batchCompleted` changes, which on PostgreSQL come through the
/// database's notifications a moment after the commit.
final class Completions: Sendable {
    private let seen = Mutex<[BatchCompletion]>([])

    /// Subscribes to `store`'s change feed.
    init(_ store: any JobStore) {
        store.subscribe { [weak self] change in
            if case .batchCompleted(let completion) = change { self?.seen.withLock { $0.append(completion) } }
        }
    }

    /// Waits until `count` completions came (up to 10 s), then a little longer for any
    /// extra one, and answers them all, in arrival order.
    func wait(for count: Int) async throws -> [BatchCompletion] {
        let deadline = ContinuousClock.now + .seconds(10)
        while seen.withLock({ $0.count }) < count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        try await Task.sleep(for: .milliseconds(300))
        return seen.withLock { $0 }
    }
}
