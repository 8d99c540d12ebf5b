import Foundation
import JobdStore
import Synchronization

/// Collects a store's dependency transitions, which come from this node's own writes at
/// their commit, from the other nodes' notifications, or from the database's commit-time
/// trigger (origin `db`), a moment after the commit.
final class HeardTransitions: Sendable {
    private let seen = Mutex<[DependencyTransition]>([])

    /// Subscribes to `store`'s change feed.
    init(_ store: any JobStore) {
        store.subscribe { [weak self] change in
            if case .dependencies(let list) = change { self?.seen.withLock { $0 += list } }
        }
    }

    /// Waits until `condition` holds for what came so far (up to 10 s), then a little
    /// longer for any extra transition, and answers them all, in arrival order.
    func wait(until condition: ([DependencyTransition]) -> Bool) async throws -> [DependencyTransition] {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition(seen.withLock { $0 }), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        try await Task.sleep(for: .milliseconds(300))
        return seen.withLock { $0 }
    }

    /// Waits until `count` transitions of `kind` came; see `wait(until:)`.
    func wait(for count: Int, _ kind: (DependencyTransition.Kind) -> Bool) async throws -> [DependencyTransition] {
        try await wait { $0.count { kind($0.kind) } >= count }.filter { kind($0.kind) }
    }
}
