/// The answer to `POST /v1/vacuum`: the database's size before and after, and how long
/// the vacuum took.
public struct VacuumResponse: Codable, Hashable, Sendable {
    /// The database's size before, in bytes (as `StatsResponse.databaseBytes`).
    public var bytesBefore: Int64
    /// Its size after.
    public var bytesAfter: Int64
    /// Bytes of free pages before (SQLite only).
    public var freeBytesBefore: Int64?
    /// Bytes of free pages after (SQLite only: 0 once vacuumed).
    public var freeBytesAfter: Int64?
    /// Seconds the vacuum took; on SQLite every write waited that long.
    public var seconds: Double

    public init(
        bytesBefore: Int64, bytesAfter: Int64, freeBytesBefore: Int64? = nil, freeBytesAfter: Int64? = nil,
        seconds: Double
    ) {
        self.bytesBefore = bytesBefore
        self.bytesAfter = bytesAfter
        self.freeBytesBefore = freeBytesBefore
        self.freeBytesAfter = freeBytesAfter
        self.seconds = seconds
    }

    enum CodingKeys: String, CodingKey {
        case bytesBefore = "bytes_before"
        case bytesAfter = "bytes_after"
        case freeBytesBefore = "free_bytes_before"
        case freeBytesAfter = "free_bytes_after"
        case seconds
    }
}
