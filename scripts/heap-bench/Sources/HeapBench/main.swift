import Foundation
import HeapModule

// The two heaps hold the same entry as the dispatcher: a deadline, a job id, an attempt id.
struct Entry: Comparable {
    var deadline: ContinuousClock.Instant
    var jobID: Int64
    var attemptID: Int64
    static func < (a: Entry, b: Entry) -> Bool { a.deadline < b.deadline }
    static func == (a: Entry, b: Entry) -> Bool { a.deadline == b.deadline }
}

/// jobd's DeadlineHeap at 6bef484 (Sources/JobdRuntime/DeadlineHeap.swift), entry inlined.
struct DeadlineHeap {
    private var entries: [Entry] = []
    var peek: Entry? { entries.first }
    mutating func push(_ entry: Entry) {
        entries.append(entry)
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].deadline < entries[parent].deadline else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }
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

// A fixed pseudo-random sequence (xorshift), the same for both heaps.
let base = ContinuousClock.now
let entries: [Entry] = {
    var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
    return (0..<1_000_000).map { i in
        seed ^= seed << 13
        seed ^= seed >> 7
        seed ^= seed << 17
        return Entry(deadline: base + .milliseconds(Int64(seed % 60_000)), jobID: Int64(i), attemptID: Int64(i))
    }
}()

/// Steady state: `live` timed attempts in the heap; each step adds one and takes the earliest.
func run(_ name: String, live: Int, push: (Entry) -> Void, pop: () -> Entry?) {
    let clock = ContinuousClock()
    var checksum: Int64 = 0
    let elapsed = clock.measure {
        for entry in entries.prefix(live) { push(entry) }
        for entry in entries.dropFirst(live) {
            push(entry)
            checksum &+= pop()!.jobID
        }
        while let top = pop() { checksum &+= top.jobID }
    }
    let seconds = Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds)
    let rate = Double(entries.count) / seconds / 1e6
    print("\(name) live=\(live): \((rate * 10).rounded() / 10) M push+pop/s (checksum \(checksum))")
}

for round in 1...3 {
    for live in [100, 10_000, 1_000_000] {
        var mine = DeadlineHeap()
        run("round \(round) DeadlineHeap", live: live, push: { mine.push($0) }, pop: { mine.pop() })
        var theirs = Heap<Entry>()
        run("round \(round) Heap        ", live: live, push: { theirs.insert($0) }, pop: { theirs.popMin() })
    }
}
