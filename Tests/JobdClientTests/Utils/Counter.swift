import Synchronization

/// A thread-safe counter for fake-daemon handlers that answer differently per call.
final class Counter: Sendable {
    private let value = Mutex(0)

    /// Returns the current count, then increments it.
    func next() -> Int {
        value.withLock { count in
            defer { count += 1 }
            return count
        }
    }
}
