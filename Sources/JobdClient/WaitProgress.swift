/// How far `JobdClient.waitForAll(_:timeout:progressInterval:progress:)` has come.
public struct WaitProgress: Hashable, Sendable {
    /// The number of distinct jobs waited for.
    public var total: Int
    /// How many of them are finished (`succeeded`, `failed` or `cancelled`).
    public var done: Int
    /// How many of the finished ones did not succeed (`failed` or `cancelled`).
    public var failed: Int

    /// Makes a progress value.
    ///
    /// - Parameters:
    ///   - total: The number of distinct jobs.
    ///   - done: How many are finished.
    ///   - failed: How many of those did not succeed.
    public init(total: Int, done: Int, failed: Int) {
        self.total = total
        self.done = done
        self.failed = failed
    }

    /// True when every job is finished.
    public var isComplete: Bool { done >= total }
}
