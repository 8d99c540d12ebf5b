import JobdModel

/// A binary min-heap of timed attempts' deadlines, earliest first.
///
/// Entries are not removed when an attempt ends early (cancel, shutdown); the
/// dispatcher skips an entry whose attempt is gone when it reaches the top.
struct DeadlineHeap {
    struct Entry {
        var deadline: ContinuousClock.Instant
        var jobID: JobID
        var attemptID: Int64
    }

    private var entries: [Entry] = []

    var count: Int { entries.count }

    /// The earliest entry.
    var peek: Entry? { entries.first }

    mutating func push(_ deadline: ContinuousClock.Instant, jobID: JobID, attemptID: Int64) {
        entries.append(Entry(deadline: deadline, jobID: jobID, attemptID: attemptID))
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].deadline < entries[parent].deadline else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest entry.
    @discardableResult
    mutating func pop() -> Entry? {
        guard !entries.isEmpty else { return nil }
        entries.swapAt(0, entries.count - 1)
        let top = entries.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < entries.count, entries[left].deadline < entries[smallest].deadline { smallest = left }
            if right < entries.count, entries[right].deadline < entries[smallest].deadline { smallest = right }
            guard smallest != parent else { break }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}
