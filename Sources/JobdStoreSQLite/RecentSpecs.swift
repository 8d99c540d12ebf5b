import JobdModel
import Synchronization

/// The specs of recently inserted jobs, by id, so a claim soon after the submit does not
/// decode the JSON that the insert just encoded (8 % of W1's CPU, docs/benchmarks.md).
///
/// A job's spec never changes and ids are never reused, so an entry cannot go stale; a
/// claim takes its entry out. Bounded: past `capacity` entries new ones are not kept (a
/// large future backlog then decodes at claim time, as without the cache).
final class RecentSpecs: Sendable {
    private let specs = Mutex<[Int64: JobSpec]>([:])
    let capacity: Int

    init(capacity: Int = 65_536) {
        self.capacity = capacity
    }

    /// Keeps the specs of newly created jobs, as far as there is room.
    func keep(_ entries: [(id: Int64, spec: JobSpec)]) {
        guard !entries.isEmpty else { return }
        specs.withLock { specs in
            for entry in entries {
                guard specs.count < capacity else { return }
                specs[entry.id] = entry.spec
            }
        }
    }

    /// Takes the specs of claimed jobs that are kept; the rest are absent.
    func take(_ ids: [Int64]) -> [Int64: JobSpec] {
        specs.withLock { specs in
            var found: [Int64: JobSpec] = [:]
            for id in ids {
                if let spec = specs.removeValue(forKey: id) { found[id] = spec }
            }
            return found
        }
    }
}
