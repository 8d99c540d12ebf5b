/// The identity of one job, unique for the life of a database.
///
/// A `JobID` wraps the job's row id and encodes as a bare JSON number, so `{"id":17}` on
/// the wire is `JobID(17)` in code (`RowIdentifier`).
public struct JobID: RowIdentifier {
    /// The row id.
    public var rawValue: Int64

    /// Wraps a row id.
    public init(rawValue: Int64) { self.rawValue = rawValue }
}
