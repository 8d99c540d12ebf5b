/// An identity that wraps a database row id and encodes as a bare JSON number
/// (`JobID`, `BatchID`): `{"id":17}` on the wire is the id 17 in code.
///
/// Each identity is a type of its own, so a batch id can never be passed where a job id
/// is meant; this protocol holds what they share.
public protocol RowIdentifier: Hashable, Comparable, Codable, Sendable, CustomStringConvertible,
    LosslessStringConvertible, ExpressibleByIntegerLiteral
where IntegerLiteralType == Int64 {
    /// The row id.
    var rawValue: Int64 { get }

    /// Wraps a row id.
    init(rawValue: Int64)
}

extension RowIdentifier {
    /// Wraps a row id.
    public init(_ rawValue: Int64) { self.init(rawValue: rawValue) }

    /// Parses a decimal id such as `"17"`; nil for anything else, including ids below 1.
    public init?(_ description: String) {
        guard let value = Int64(description), value > 0 else { return nil }
        self.init(rawValue: value)
    }

    /// Makes an id from an integer literal (tests and examples).
    public init(integerLiteral value: Int64) { self.init(rawValue: value) }

    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(Int64.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { String(rawValue) }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}
