/// A consistent copy of a database in a file of its own, made by `DatabaseMaintenance.backup()`.
///
/// - Important: The file belongs to the caller, who removes it once read. It lies beside
///   the database (the only place a sandboxed daemon may write), so it takes as much space
///   there as the database does until then.
public struct DatabaseCopy: Sendable, Hashable {
    /// The copy's path.
    public var path: String
    /// Its size in bytes.
    public var bytes: Int64

    /// Describes a copy.
    ///
    /// - Parameters:
    ///   - path: The copy's path.
    ///   - bytes: Its size in bytes.
    public init(path: String, bytes: Int64) {
        self.path = path
        self.bytes = bytes
    }
}
