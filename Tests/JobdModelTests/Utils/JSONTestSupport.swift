import Foundation
import JobdModel
import Testing

/// Encodes with the production encoder (sorted keys, RFC 3339 dates) and returns the text.
func encodeToString(_ value: some Encodable) throws -> String {
    String(decoding: try JSONCoding.makeEncoder().encode(value), as: UTF8.self)
}

/// Decodes text with the production decoder.
func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
    try JSONCoding.makeDecoder().decode(type, from: Data(text.utf8))
}

/// Encodes then decodes with the production coders.
func roundTrip<T: Codable>(_ value: T) throws -> T {
    try JSONCoding.makeDecoder().decode(T.self, from: JSONCoding.makeEncoder().encode(value))
}

/// A fixed UTC time. Whole or binary-fraction seconds survive the millisecond wire format exactly.
func utc(_ text: String) throws -> Date {
    try #require(RFC3339.date(from: text), "bad test date \(text)")
}

/// The bytes of a file under `Tests/JobdModelTests/Fixtures`, found next to this source file.
func fixtureData(_ name: String) throws -> Data {
    let testsDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Utils
        .deletingLastPathComponent()  // JobdModelTests
    return try Data(contentsOf: testsDirectory.appendingPathComponent("Fixtures").appendingPathComponent(name))
}
