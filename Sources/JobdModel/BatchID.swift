/// The identity of one batch (`POST /v1/batches`), unique for the life of a database.
///
/// Like `JobID`, it encodes as a bare JSON number: `{"id":4}` is `BatchID(4)`. Batch ids and
/// job ids are counted apart: batch 4 and job 4 are unrelated.
public struct BatchID: RowIdentifier {
    /// The row id.
    public var rawValue: Int64

    /// Wraps a row id.
    public init(rawValue: Int64) { self.rawValue = rawValue }
}
