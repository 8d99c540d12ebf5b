import Foundation

/// A rate of requests, as `limits.per_host_rate` and `limits.host_rates` spell it: `20/s`,
/// `600/m`, `2/h`, `0.5/s`.
///
/// Its bucket holds one second's worth of tokens, at least one (`20/s` lets 20 start at
/// once, `0.5/s` one), and refills one token every `interval`.
public struct RateLimit: Sendable, Hashable, CustomStringConvertible {
    /// The unit of time a rate is counted in.
    public enum Unit: String, Sendable, Hashable, CaseIterable {
        case second = "s"
        case minute = "m"
        case hour = "h"

        /// The unit's length in seconds.
        public var seconds: Double {
            switch self {
            case .second: 1
            case .minute: 60
            case .hour: 3600
            }
        }
    }

    /// Why a text is not a rate; `reason` quotes the text.
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        /// Why, with the text.
        public var reason: String
        public var description: String { reason }
    }

    /// The most per second a rate may allow: beyond it a limit limits nothing a daemon can do.
    public static let maxPerSecond = 1_000_000.0
    /// The least per second a rate may allow: one a day.
    public static let minPerSecond = 1.0 / 86_400

    /// How many per `unit` (more than 0, decimals allowed).
    public let count: Double
    /// The unit `count` is per.
    public let unit: Unit

    /// A rate of `count` per `unit`.
    ///
    /// - Precondition: `count / unit.seconds` is within `minPerSecond...maxPerSecond`.
    public init(_ count: Double, per unit: Unit) {
        precondition(
            (Self.minPerSecond...Self.maxPerSecond).contains(count / unit.seconds),
            "a rate is between one a day and a million a second, got \(count)/\(unit.rawValue)")
        self.count = count
        self.unit = unit
    }

    /// Parses `N/s`, `N/m` or `N/h` (N a decimal number, spaces around the slash allowed).
    ///
    /// - Throws: `ParseError` for any other text, for 0, and for rates over a million a
    ///   second or under one a day.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(separator: "/", omittingEmptySubsequences: false)
        let example = "like 20/s, 600/m, 2/h or 0.5/s"
        guard parts.count == 2,
            let unit = Unit(rawValue: parts[1].trimmingCharacters(in: .whitespaces).lowercased())
        else {
            throw ParseError(reason: "\(text.debugDescription) is not a rate (\(example))")
        }
        let number = parts[0].trimmingCharacters(in: .whitespaces)
        // Double(_:) also reads "nan", "inf" and hexadecimal; a rate is a plain decimal.
        guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || ".eE+-".contains($0)) }),
            let count = Double(number), count.isFinite
        else {
            throw ParseError(reason: "\(text.debugDescription) is not a rate (\(example))")
        }
        guard count > 0 else {
            throw ParseError(reason: "must be more than 0, got \(text.debugDescription)")
        }
        let perSecond = count / unit.seconds
        guard perSecond <= Self.maxPerSecond else {
            throw ParseError(reason: "must be at most 1000000/s, got \(text.debugDescription)")
        }
        guard perSecond >= Self.minPerSecond else {
            throw ParseError(reason: "must be at least one a day (0.0417/h), got \(text.debugDescription)")
        }
        self.init(count, per: unit)
    }

    /// Requests per second.
    public var perSecond: Double { count / unit.seconds }

    /// The time between two tokens once the burst is used: `1 / perSecond`.
    public var interval: Duration {
        .nanoseconds(Int64((1e9 / perSecond).rounded()))
    }

    /// How many may start at once from a full bucket: one second's worth, at least 1.
    public var burst: Int {
        max(1, Int(perSecond.rounded(.down)))
    }

    /// `20/s`, `600/m`, `0.5/s`: parses back to the same rate.
    public var description: String {
        let number = count == count.rounded() && count < 1e15 ? String(Int64(count)) : "\(count)"
        return "\(number)/\(unit.rawValue)"
    }
}
