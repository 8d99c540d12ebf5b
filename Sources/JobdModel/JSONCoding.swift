import Foundation

/// The JSON encoder and decoder every part of jobd uses, so dates are RFC 3339 everywhere.
public enum JSONCoding {
    /// A new encoder: RFC 3339 dates with fractional seconds, sorted keys.
    public static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339.string(from: date))
        }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// The decoder's `userInfo` key that makes job specs strict (`JobSpec+Fields.swift`).
    public static let strictKey = CodingUserInfoKey(rawValue: "jobd.strictSpecs")!

    /// A new decoder: accepts RFC 3339 dates with or without fractional seconds.
    ///
    /// - Parameter strict: True for requests: a job spec with an unknown field is refused.
    public static func makeDecoder(strict: Bool = false) -> JSONDecoder {
        let decoder = JSONDecoder()
        if strict { decoder.userInfo[strictKey] = true }
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = RFC3339.date(from: text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "expected an RFC 3339 time, got \(text)")
            }
            return date
        }
        return decoder
    }
}

/// RFC 3339 formatting and parsing.
public enum RFC3339 {
    /// Formats a date as UTC with milliseconds: `2026-11-25T14:25:04.123Z`.
    public static func string(from date: Date) -> String {
        // The formatter truncates the fraction, and most millisecond values are not exact
        // as a Double: round to the millisecond, then nudge up so truncation keeps it.
        let milliseconds = (date.timeIntervalSinceReferenceDate * 1000).rounded()
        let rounded = Date(timeIntervalSinceReferenceDate: milliseconds / 1000 + 0.000_1)
        return rounded.formatted(
            .iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }

    /// Parses RFC 3339 with or without fractional seconds, with `Z` or an offset.
    public static func date(from text: String) -> Date? {
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) {
            return date
        }
        return try? Date.ISO8601FormatStyle().parse(text)
    }
}
