import Foundation
import JobdModel

#if canImport(Glibc)
    import Glibc
#endif

/// Parses and checks configuration values, and renders them back as YAML.
///
/// Every parser throws `InvalidValue` with a reason that quotes the value. The group and
/// user look-ups call NSS (`getgrnam_r`, `getpwnam_r`), which may block: configuration
/// is loaded on the NIO thread pool, never on the cooperative pool.
enum ConfigurationParser {
    /// True for the YAML spellings of "no value": empty, `~`, `null`, and `none`.
    static func isNull(_ text: String) -> Bool {
        ["", "~", "null", "none"].contains(text.trimmingCharacters(in: .whitespaces).lowercased())
    }

    /// The single value of `raw`.
    static func scalar(_ raw: RawSetting) throws -> String {
        switch raw {
        case .scalar(let text): return text.trimmingCharacters(in: .whitespaces)
        case .list: throw InvalidValue("expected a single value, not a list")
        case .map: throw InvalidValue("expected a single value, not a map")
        }
    }

    /// The text of `raw`, or nil for null.
    static func optionalText(_ raw: RawSetting) throws -> String? {
        let text = try scalar(raw)
        return isNull(text) ? nil : text
    }

    /// The items of a list; a single value is split at commas, null is empty.
    static func list(_ raw: RawSetting) throws -> [String] {
        switch raw {
        case .list(let items):
            return items.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        case .scalar(let text):
            if isNull(text) || text.trimmingCharacters(in: .whitespaces) == "[]" { return [] }
            return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        case .map:
            throw InvalidValue("expected a list, not a map")
        }
    }

    /// One of `choices`, case-insensitively; returned as spelled in `choices`.
    static func choice(_ raw: RawSetting, _ choices: [String]) throws -> String {
        let text = try scalar(raw)
        guard let match = choices.first(where: { $0.caseInsensitiveCompare(text) == .orderedSame }) else {
            throw InvalidValue("must be one of \(choices.joined(separator: ", ")), got \(text.debugDescription)")
        }
        return match
    }

    /// A whole number in `range`.
    static func integer(_ raw: RawSetting, in range: ClosedRange<Int>) throws -> Int {
        let text = try scalar(raw)
        guard let value = Int(text) else {
            throw InvalidValue("\(text.debugDescription) is not a whole number")
        }
        guard range.contains(value) else {
            throw InvalidValue("must be \(range.lowerBound) to \(range.upperBound), got \(value)")
        }
        return value
    }

    /// A whole number in `range`, or nil for null.
    static func optionalInteger(_ raw: RawSetting, in range: ClosedRange<Int>) throws -> Int? {
        if case .scalar(let text) = raw, isNull(text) { return nil }
        return try integer(raw, in: range)
    }

    /// A byte count: a whole number, or one with a `KiB`, `MiB` or `GiB` suffix.
    static func byteCount(_ raw: RawSetting, in range: ClosedRange<Int>) throws -> Int {
        let text = try scalar(raw)
        let units: [(String, Int)] = [("kib", 1 << 10), ("mib", 1 << 20), ("gib", 1 << 30)]
        var number = text
        var multiplier = 1
        for (suffix, factor) in units where text.lowercased().hasSuffix(suffix) {
            number = String(text.dropLast(suffix.count)).trimmingCharacters(in: .whitespaces)
            multiplier = factor
        }
        guard let value = Int(number), value.multipliedReportingOverflow(by: multiplier).overflow == false else {
            throw InvalidValue("\(text.debugDescription) is not a byte count (like 10485760 or 10MiB)")
        }
        let bytes = value * multiplier
        guard range.contains(bytes) else {
            throw InvalidValue("must be \(range.lowerBound) to \(range.upperBound) bytes, got \(bytes)")
        }
        return bytes
    }

    /// A duration: seconds (`1.5`), or a number with `ms`, `s`, `m`, `h` or `d`.
    static func duration(_ raw: RawSetting, in range: ClosedRange<Duration>) throws -> Duration {
        let text = try scalar(raw)
        guard let value = parseDuration(text) else {
            throw InvalidValue("\(text.debugDescription) is not a duration (seconds, or like 250ms, 90s, 5m, 2h, 7d)")
        }
        guard value >= .zero else {
            throw InvalidValue("must not be negative, got \(text)")
        }
        guard range.contains(value) else {
            throw InvalidValue(
                "must be \(renderDuration(range.lowerBound)) to \(renderDuration(range.upperBound)), got \(text)")
        }
        return value
    }

    /// A duration in `range`, or nil for null.
    static func optionalDuration(_ raw: RawSetting, in range: ClosedRange<Duration>) throws -> Duration? {
        if case .scalar(let text) = raw, isNull(text) { return nil }
        return try duration(raw, in: range)
    }

    /// Parses `1.5`, `250ms`, `90s`, `5m`, `2h`, `7d`; nil when it is none of these.
    static func parseDuration(_ text: String) -> Duration? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
        var number = text.trimmingCharacters(in: .whitespaces).lowercased()
        var factor = 1.0
        // "ms" before "s": the first matching suffix wins.
        for (suffix, unit) in units where number.hasSuffix(suffix) {
            number.removeLast(suffix.count)
            factor = unit
            break
        }
        guard let value = Double(number), value.isFinite, !number.isEmpty,
            number.allSatisfy({ $0.isNumber || $0 == "." || $0 == "-" || $0 == "+" })
        else { return nil }
        let nanoseconds = (value * factor * 1e9).rounded()
        guard abs(nanoseconds) < 9e18 else { return nil }
        return .nanoseconds(Int64(nanoseconds))
    }

    /// A file mode in octal (`0660`, `660`, `0o660`), at most `0777`.
    static func mode(_ raw: RawSetting) throws -> UInt16 {
        let text = try scalar(raw)
        var digits = text.lowercased()
        if digits.hasPrefix("0o") { digits.removeFirst(2) }
        guard !digits.isEmpty, digits.allSatisfy({ ("0"..."7").contains($0) }), let value = UInt16(digits, radix: 8)
        else {
            throw InvalidValue("\(text.debugDescription) is not an octal mode like \"0660\"")
        }
        guard value <= 0o777 else {
            throw InvalidValue("must be at most 0777, got \(text)")
        }
        return value
    }

    /// A Unix socket path that fits `sun_path`.
    static func socketPath(_ text: String) throws -> String {
        guard text.utf8.count < 108 else {
            throw InvalidValue("\(text) is \(text.utf8.count) bytes; a Unix socket path holds at most 107")
        }
        return text
    }

    /// A network in CIDR notation (`169.254.0.0/16`, `fe80::/10`); a bare address is a /32 or /128.
    static func network(_ text: String) throws -> String {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count) else {
            throw InvalidValue("\(text.debugDescription) is not a network like 169.254.0.0/16 or fe80::/10")
        }
        let address = String(parts[0])
        var buffer = [UInt8](repeating: 0, count: 16)
        let maxPrefix: Int
        if inet_pton(AF_INET, address, &buffer) == 1 {
            maxPrefix = 32
        } else if inet_pton(AF_INET6, address, &buffer) == 1 {
            maxPrefix = 128
        } else {
            throw InvalidValue("\(text.debugDescription): \(address.debugDescription) is not an IPv4 or IPv6 address")
        }
        if parts.count == 2 {
            guard let prefix = Int(parts[1]), (0...maxPrefix).contains(prefix) else {
                throw InvalidValue("\(text.debugDescription): the prefix length must be 0 to \(maxPrefix)")
            }
        }
        return text
    }

    /// A header value: printable, no line breaks.
    static func headerValue(_ text: String) throws -> String {
        guard !text.contains(where: { $0.isNewline || $0 == "\0" }) else {
            throw InvalidValue("must be one line")
        }
        return text
    }

    /// A group that exists, by name or number; returned as written.
    static func existingGroup(_ text: String) throws -> String {
        _ = try groupID(text)
        return text
    }

    /// A group's id, from a number or a group name.
    static func groupID(_ text: String) throws -> UInt32 {
        if let number = UInt32(text) { return number }
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        let status = getgrnam_r(text, &entry, &buffer, buffer.count, &result)
        guard status == 0, result != nil else {
            throw InvalidValue("no group is named \(text.debugDescription)")
        }
        return entry.gr_gid
    }

    /// A user's id, from a number or a user name.
    static func userID(_ text: String) throws -> UInt32 {
        if let number = UInt32(text) { return number }
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        let status = getpwnam_r(text, &entry, &buffer, buffer.count, &result)
        guard status == 0, result != nil else {
            throw InvalidValue("no user is named \(text.debugDescription)")
        }
        return entry.pw_uid
    }

    // MARK: - Rendering

    /// A YAML double-quoted string.
    static func quote(_ text: String) -> String {
        var escaped = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\t": escaped += "\\t"
            default:
                if scalar.value < 0x20 {
                    escaped += String(format: "\\x%02X", scalar.value)
                } else {
                    escaped.unicodeScalars.append(scalar)
                }
            }
        }
        return "\"\(escaped)\""
    }

    /// A quoted string, or `null`.
    static func renderOptional(_ text: String?) -> String {
        text.map(quote) ?? "null"
    }

    /// A number, or `null`.
    static func renderOptional(_ number: Int?) -> String {
        number.map { "\($0)" } ?? "null"
    }

    /// A YAML flow sequence.
    static func renderList(_ items: [String]) -> String {
        "[" + items.joined(separator: ", ") + "]"
    }

    /// A mode as four octal digits.
    static func octal(_ mode: UInt16) -> String {
        "0" + String(mode, radix: 8)
    }

    /// A duration as plain seconds (`30`, `1.5`).
    static func renderSeconds(_ duration: Duration) -> String {
        let seconds = duration.secondsValue
        return seconds == seconds.rounded() ? "\(Int64(seconds))" : "\(seconds)"
    }

    /// A duration in its largest whole unit (`7d`, `2h`, `90s`, `250ms`).
    static func renderDuration(_ duration: Duration) -> String {
        let milliseconds = Int64((duration.secondsValue * 1000).rounded())
        if milliseconds == 0 { return "0s" }
        if milliseconds % 1000 != 0 { return "\(milliseconds)ms" }
        let seconds = milliseconds / 1000
        for (unit, size) in [("d", Int64(86_400)), ("h", 3600), ("m", 60)] where seconds % size == 0 {
            return "\(seconds / size)\(unit)"
        }
        return "\(seconds)s"
    }
}
