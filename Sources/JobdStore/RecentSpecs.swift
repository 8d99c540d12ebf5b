import JobdModel
import Synchronization

/// The specs of recently inserted jobs, by id, so a claim soon after the submit does not
/// decode the JSON that the insert just encoded (8 % of W1's CPU on SQLite, 14 % of a
/// PostgreSQL node's; docs/benchmarks.md). Both engines keep one.
///
/// A job's spec never changes and ids are never reused, so an entry cannot go stale; a
/// claim takes its entry out. Bounded: past `capacity` entries the oldest are dropped,
/// whether or not they were claimed (on PostgreSQL another node may claim a job this one
/// stored, and its entry is never taken here); a dropped entry's job decodes its spec at
/// claim time, as without the cache.
public final class RecentSpecs: Sendable {
    private struct State {
        var specs: [Int64: JobSpec] = [:]
        /// The kept ids in the order they came; `head` is the oldest not yet dropped.
        var order: [Int64] = []
        var head = 0
    }

    private let state = Mutex(State())
    public let capacity: Int

    public init(capacity: Int = 65_536) {
        self.capacity = capacity
    }

    /// Keeps the specs of newly created jobs, dropping the oldest past the capacity.
    public func keep(_ entries: [(id: Int64, spec: JobSpec)]) {
        guard !entries.isEmpty, capacity > 0 else { return }
        state.withLock { state in
            for entry in entries {
                if state.specs.updateValue(entry.spec, forKey: entry.id) == nil {
                    state.order.append(entry.id)
                }
                // Ids taken by claims stay in `order` until their turn; dropping those is free.
                while state.order.count - state.head > capacity {
                    state.specs.removeValue(forKey: state.order[state.head])
                    state.head += 1
                }
            }
            if state.head > capacity {
                state.order.removeFirst(state.head)
                state.head = 0
            }
        }
    }

    /// Takes the specs of claimed jobs that are kept; the rest are absent.
    public func take(_ ids: [Int64]) -> [Int64: JobSpec] {
        state.withLock { state in
            var found: [Int64: JobSpec] = [:]
            for id in ids {
                if let spec = state.specs.removeValue(forKey: id) { found[id] = spec }
            }
            return found
        }
    }

    /// How many specs are kept (for tests).
    public var count: Int { state.withLock { $0.specs.count } }
}
