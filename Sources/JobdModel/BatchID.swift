/// The identity of one batch (`POST /v1/batches`), unique for the life of a database.
///
/// Like `JobID`, it encodes as a bare JSON number: `{"id":4}` is `BatchID(4)`. Batch ids and
/// job ids are counted apart: batch 4 and job 4 are unrelated.
public struct BatchID: RawRepresentable, Hashable, Comparable, Codable, Sendable,
    CustomStringConvertible, LosslessStringConvertible, ExpressibleByIntegerLiteral
{
    /// The row id.
    public var rawValue: Int64

    /// Wraps a row id.
    public init(rawValue: Int64) { self.rawValue = rawValue }

    /// Wraps a row id.
    public init(_ rawValue: Int64) { self.rawValue = rawValue }

    /// Parses a decimal id such as `"4"`; nil for anything else, including ids below 1.
    public init?(_ description: String) {
        guard let value = Int64(description), value > 0 else { return nil }
        self.rawValue = value
    }

    /// Makes an id from an integer literal (tests and examples).
    public init(integerLiteral value: Int64) { self.rawValue = value }

    public init(from decoder: any Decoder) throws {
        self.rawValue = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { String(rawValue) }

    public static func < (lhs: BatchID, rhs: BatchID) -> Bool { lhs.rawValue < rhs.rawValue }
}
