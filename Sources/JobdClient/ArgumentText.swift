import Foundation
import JobdModel

/// Parsing of command-line argument text into jobd values: durations, JSON values and
/// HTTP headers.
///
/// Pure functions, shared by `jobctl` and its tests.
public enum ArgumentText {
    /// Parses a duration in seconds: a plain number (`1.5`) or a number with a unit
    /// (`250ms`, `1.5s`, `2m`, `1h`, `1d`, `2w`).
    ///
    /// - Parameter text: The argument.
    /// - Returns: The duration in seconds, or nil when the text is not a finite
    ///   duration of 0 or more.
    public static func seconds(_ text: String) -> Double? {
        let text = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(suffix: String, factor: Double)] = [
            ("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400), ("w", 604_800),
        ]
        var number = Substring(text)
        var factor = 1.0
        for unit in units where text.hasSuffix(unit.suffix) {
            number = text.dropLast(unit.suffix.count)
            factor = unit.factor
            break
        }
        guard !number.isEmpty, number.first != "+", let value = Double(number), value.isFinite, value >= 0 else {
            return nil
        }
        return value * factor
    }

    /// Parses a duration as `seconds(_:)` does, as a `Duration` rounded up to the
    /// millisecond.
    ///
    /// - Parameters:
    ///   - text: The argument.
    ///   - requiringUnit: When true, a bare number (`7`) is refused: for options where a
    ///     wrong guess at the unit is costly, such as `prune --older-than`.
    /// - Returns: The duration, or nil when the text is not a duration of 0 or more (or
    ///   lacks a required unit), or is longer than 100 years.
    public static func duration(_ text: String, requiringUnit: Bool = false) -> Duration? {
        if requiringUnit {
            guard let last = text.trimmingCharacters(in: .whitespaces).last, last.isLetter else { return nil }
        }
        guard let seconds = seconds(text), seconds <= 100 * 365 * 86_400 else { return nil }
        return .milliseconds(Int64((seconds * 1000).rounded(.up)))
    }

    /// Reads a `--value` argument as JSON, falling back to a plain string.
    ///
    /// `'"Data 1"'` is the string `Data 1`, `42` the number 42, `{"a":1}` an object,
    /// `null` null; text that is not valid JSON (`Data 1`) is taken as that string.
    ///
    /// - Parameter text: The argument.
    /// - Returns: The value.
    public static func jsonValue(_ text: String) -> JSONValue {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, let value = try? JSONDecoder().decode(JSONValue.self, from: Data(trimmed.utf8)) else {
            return .string(text)
        }
        return value
    }

    /// Whether `jsonValue(_:)` reads the text as JSON rather than as a plain string.
    ///
    /// - Parameter text: The argument.
    /// - Returns: True when the text is valid JSON.
    public static func isJSON(_ text: String) -> Bool {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return !trimmed.isEmpty && (try? JSONDecoder().decode(JSONValue.self, from: Data(trimmed.utf8))) != nil
    }

    /// Splits a `--header 'Name: value'` argument at its first colon.
    ///
    /// Whitespace around the name and the value is dropped.
    ///
    /// - Parameter text: The argument.
    /// - Returns: The name and the value (possibly empty), or nil when there is no
    ///   colon or the name is empty.
    public static func header(_ text: String) -> (name: String, value: String)? {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let name = text[..<colon].trimmingCharacters(in: .whitespaces)
        let value = text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { return nil }
        return (name, value)
    }
}
