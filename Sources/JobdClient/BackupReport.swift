/// What `JobdClient.backup(to:)` wrote: the file, its size and how long it took.
public struct BackupReport: Codable, Hashable, Sendable {
    /// The file written.
    public var file: String
    /// Its size in bytes.
    public var bytes: Int64
    /// Seconds from the request to the file's rename, the daemon's copy included.
    public var seconds: Double

    /// Describes a backup.
    ///
    /// - Parameters:
    ///   - file: The file written.
    ///   - bytes: Its size in bytes.
    ///   - seconds: How long it took.
    public init(file: String, bytes: Int64, seconds: Double) {
        self.file = file
        self.bytes = bytes
        self.seconds = seconds
    }
}
