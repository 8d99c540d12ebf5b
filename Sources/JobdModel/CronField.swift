/// One of the five fields of a ``CronExpression``: the set of values it matches.
///
/// A field is written as a comma-separated list of items, each one of:
/// - `*`: every value of the field's range;
/// - `v`: one value, a number or (month and day of week only) a three-letter English name,
///   case-insensitive (`JAN`…`DEC`, `SUN`…`SAT`);
/// - `a-b`: every value from `a` through `b` (names allowed: `MON-FRI`); `a` must not be
///   greater than `b`;
/// - `*/n`, `a-b/n`: every `n`th value of the range, starting at its first value;
/// - `a/n`: the same as `a-max/n`, where `max` is the field's highest value.
///
/// Ranges: minute 0-59, hour 0-23, day of month 1-31, month 1-12, day of week 0-7, where both
/// 0 and 7 are Sunday (``values`` reports Sunday as 0 only). A step must be at least 1 and at
/// most the field's highest value.
public struct CronField: Hashable, Sendable {
    /// The matching values as a bit set: bit `v` is set when the value `v` matches.
    let bits: UInt64

    /// Whether the field's text starts with `*` (`*`, `*/15`), as cron(5) decides it.
    ///
    /// This matters for the two day fields: when neither starts with `*`, a day matches if
    /// *either* matches; otherwise both must (see ``CronExpression``).
    public let isWildcard: Bool

    init(bits: UInt64, isWildcard: Bool) {
        self.bits = bits
        self.isWildcard = isWildcard
    }

    /// The matching values in increasing order; day of week reports Sunday as 0.
    public var values: [Int] { (0..<64).filter { bits & (1 << UInt64($0)) != 0 } }

    /// Whether `value` matches; for day of week, 0 is Sunday (7 is not a value here).
    public func contains(_ value: Int) -> Bool {
        (0..<64).contains(value) && bits & (1 << UInt64(value)) != 0
    }

    /// The smallest matching value that is at least `value`, if any.
    func first(atLeast value: Int) -> Int? {
        guard value < 64 else { return nil }
        let rest = value <= 0 ? bits : bits & ~((1 << UInt64(value)) - 1)
        return rest == 0 ? nil : rest.trailingZeroBitCount
    }

    /// The largest matching value that is at most `value`, if any.
    func last(atMost value: Int) -> Int? {
        guard value >= 0 else { return nil }
        let rest = value >= 63 ? bits : bits & ((1 << UInt64(value + 1)) - 1)
        return rest == 0 ? nil : 63 - rest.leadingZeroBitCount
    }
}

extension CronField {
    /// What one field position accepts: its name (as errors report it), range and names.
    struct Kind: Sendable {
        /// The name errors use, such as `"day of month"`.
        let name: String
        /// The lowest value.
        let lower: Int
        /// The highest value (7 for day of week, which folds it to 0).
        let upper: Int
        /// Names for values `nameBase`, `nameBase + 1`, …, upper-case.
        let names: [String]
        /// The value of `names[0]`.
        let nameBase: Int
        /// Whether the highest value is another name for 0 (day of week: 7 is Sunday).
        var foldsUpperToZero: Bool { upper == 7 }

        static let minute = Kind(name: "minute", lower: 0, upper: 59, names: [], nameBase: 0)
        static let hour = Kind(name: "hour", lower: 0, upper: 23, names: [], nameBase: 0)
        static let dayOfMonth = Kind(name: "day of month", lower: 1, upper: 31, names: [], nameBase: 1)
        static let month = Kind(
            name: "month", lower: 1, upper: 12,
            names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
            nameBase: 1
        )
        static let dayOfWeek = Kind(
            name: "day of week", lower: 0, upper: 7,
            names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
            nameBase: 0
        )

        /// The allowed range as errors print it, with names where the field has them.
        var rangeText: String {
            guard let first = names.first, let last = names.last else { return "\(lower)-\(upper)" }
            return "\(lower)-\(upper) or \(first)-\(last)"
        }
    }

    /// Parses one field's text, such as `1,5,10-12` or `MON-FRI` or `*/15`.
    ///
    /// - Throws: ``CronError`` with `field` set to the kind's name when an item is empty,
    ///   malformed, out of range, a reversed range, or has a step outside 1 through the
    ///   field's highest value.
    init(parsing text: Substring, as kind: Kind) throws(CronError) {
        var bits: UInt64 = 0
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            bits |= try Self.parseItem(item, in: text, as: kind)
        }
        self.init(bits: bits, isWildcard: text.hasPrefix("*"))
    }

    private static func parseItem(_ item: Substring, in text: Substring, as kind: Kind) throws(CronError) -> UInt64 {
        func failure(_ reason: String) -> CronError { CronError(field: kind.name, reason: reason) }
        guard !item.isEmpty else { throw failure("empty item in list \"\(text)\"") }
        let parts = item.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { throw failure("\"\(item)\" has more than one step (/)") }

        let range = parts[0]
        var lower: Int
        var upper: Int
        if range == "*" {
            (lower, upper) = (kind.lower, kind.upper)
        } else if range.contains("-") {
            let ends = range.split(separator: "-", omittingEmptySubsequences: false)
            guard ends.count == 2, !ends[0].isEmpty, !ends[1].isEmpty else {
                throw failure("\"\(range)\" is not a range like 1-5 (allowed: \(kind.rangeText))")
            }
            lower = try value(ends[0], as: kind)
            upper = try value(ends[1], as: kind)
            guard lower <= upper else {
                let hint = kind.foldsUpperToZero ? "; Sunday is 0 or 7" : ""
                throw failure("range \(range) is reversed: \(ends[0]) comes after \(ends[1])\(hint)")
            }
        } else {
            lower = try value(range, as: kind)
            // `a/n` means `a-max/n` (as cronie reads it); a plain `a` is just `a`.
            upper = parts.count == 2 ? kind.upper : lower
        }

        var step = 1
        if parts.count == 2 {
            let stepText = parts[1]
            guard !stepText.isEmpty, stepText.allSatisfy(\.isASCIIDigit) else {
                throw failure("step \"\(stepText)\" in \"\(item)\" is not a number")
            }
            guard let parsed = Int(stepText), (1...kind.upper).contains(parsed) else {
                throw failure("step \(stepText) in \"\(item)\" is out of range 1-\(kind.upper)")
            }
            step = parsed
        }

        var bits: UInt64 = 0
        for value in stride(from: lower, through: upper, by: step) {
            // Day of week 7 is Sunday, stored as 0 so matching needs one weekday number.
            let folded = kind.foldsUpperToZero && value == kind.upper ? 0 : value
            bits |= 1 << UInt64(folded)
        }
        return bits
    }

    /// One value: digits, or a name where the field has names.
    private static func value(_ token: Substring, as kind: Kind) throws(CronError) -> Int {
        if !token.isEmpty, token.allSatisfy(\.isASCIIDigit) {
            // Too many digits for an Int is out of range too, not garbage.
            guard let number = Int(token), (kind.lower...kind.upper).contains(number) else {
                throw CronError(field: kind.name, reason: "\(token) is out of range \(kind.lower)-\(kind.upper)")
            }
            return number
        }
        if let index = kind.names.firstIndex(of: token.uppercased()) {
            return kind.nameBase + index
        }
        let expected = kind.names.isEmpty ? "a number \(kind.rangeText)" : "a number or name \(kind.rangeText)"
        throw CronError(field: kind.name, reason: "\"\(token)\" is not \(expected)")
    }
}

extension Character {
    /// Whether this is one of the ASCII digits 0-9 (not any Unicode digit).
    fileprivate var isASCIIDigit: Bool { asciiValue.map { (48...57).contains($0) } ?? false }
}
