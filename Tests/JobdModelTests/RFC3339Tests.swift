import Foundation
import JobdModel
import Testing

@Suite struct RFC3339Tests {
    /// 2026-11-25T14:25:04Z as Unix seconds.
    static let base: TimeInterval = 1_795_616_704

    @Test("parses with and without fractional seconds, with Z or an offset")
    func parses() throws {
        let table: [(String, TimeInterval)] = [
            ("2026-11-25T14:25:04Z", Self.base),
            ("2026-11-25T14:25:04.500Z", Self.base + 0.5),
            ("2026-11-25T14:25:04.123Z", Self.base + 0.123),
            ("2026-11-25T16:25:04+02:00", Self.base),
            ("2026-11-25T16:25:04.250+02:00", Self.base + 0.25),
            ("2026-11-25T09:25:04-05:00", Self.base),
            ("1970-01-01T00:00:00Z", 0),
        ]
        for (text, seconds) in table {
            let date = try #require(RFC3339.date(from: text), "\(text)")
            #expect(abs(date.timeIntervalSince1970 - seconds) < 0.000_5, "\(text)")
        }
    }

    @Test("rejects text that is not an RFC 3339 time")
    func rejects() {
        for text in ["", "yesterday", "2026-11-25", "2026-11-25T14:25:04", "2026-13-25T14:25:04Z", "1795616704"] {
            #expect(RFC3339.date(from: text) == nil, "\(text)")
        }
    }

    @Test("formats as UTC with milliseconds and Z")
    func formats() {
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: Self.base)) == "2026-11-25T14:25:04.000Z")
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: Self.base + 0.5)) == "2026-11-25T14:25:04.500Z")
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
    }

    @Test("the JSON coders write and read dates as RFC 3339")
    func jsonCoders() throws {
        let date = Date(timeIntervalSince1970: Self.base + 0.25)
        #expect(try encodeToString([date]) == #"["2026-11-25T14:25:04.250Z"]"#)
        #expect(try decode([Date].self, from: #"["2026-11-25T14:25:04.250Z"]"#) == [date])
        #expect(throws: DecodingError.self) { try decode([Date].self, from: #"["next tuesday"]"#) }
    }

    @Test(
        "every millisecond value survives format then parse")
    func millisecondRoundTrip() throws {
        var changed: [String] = []
        for millisecond in 0..<1000 {
            let text = "2026-11-25T14:25:04." + String(1000 + millisecond).dropFirst() + "Z"
            let date = try #require(RFC3339.date(from: text))
            // Also through REAL Unix seconds, as the store keeps times.
            for again in [
                RFC3339.string(from: date),
                RFC3339.string(from: Date(timeIntervalSince1970: date.timeIntervalSince1970)),
            ]
            where again != text {
                changed.append("\(text) → \(again)")
            }
        }
        #expect(changed.isEmpty, "\(changed.count) changed, first: \(changed.prefix(3))")
    }
}
