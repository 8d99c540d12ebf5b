/// Counters of a store's write path since it opened.
public struct StoreStatistics: Sendable, Hashable {
    /// Write transactions committed.
    public var commits: Int
    /// Operations those transactions held (group commit puts many in one).
    public var operations: Int

    /// Describes the counters.
    ///
    /// - Parameters:
    ///   - commits: Write transactions committed.
    ///   - operations: Operations they held.
    public init(commits: Int, operations: Int) {
        self.commits = commits
        self.operations = operations
    }
}
