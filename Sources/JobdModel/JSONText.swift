import Foundation

/// A small JSON writer for the one hot encoding path: the result written at every finish.
///
/// `JSONEncoder` costs 5-6 % of the daemon's CPU under load for what is a few fields
/// (docs/benchmarks.md). The text this writer makes decodes (with
/// `JSONCoding.makeDecoder()`) to the same value as `JSONCoding.makeEncoder()`'s:
/// sorted keys, unescaped slashes, UTF-8 as is, control characters escaped.
public enum JSONText {
    /// The result as JSON text, or nil when a delay's value holds a floating-point number,
    /// whose text only `JSONEncoder` writes the way `JSONValue` reads back (the caller
    /// falls back to it).
    ///
    /// - Parameters:
    ///   - result: The result.
    ///   - bodyLast: True for the stored form: a fetch's `body` is written last instead of
    ///     first, so that its status, size and headers are in the text's first bytes and a
    ///     job list reads them without reading the body (`ResultHead`). Either form
    ///     decodes to the same value.
    public static func encode(_ result: JobResult, bodyLast: Bool = false) -> String? {
        var out: [UInt8] = []
        switch result {
        case .delay(let delay):
            out.reserveCapacity(32)
            append(#"{"kind":"delay","value":"#, to: &out)
            guard append(delay.value, to: &out) else { return nil }
            out.append(UInt8(ascii: "}"))
        case .fetch(let fetch):
            guard fetch.elapsedMs.isFinite else { return nil }
            out.reserveCapacity(fetch.body.utf8.count + 256)
            if bodyLast {
                append(#"{"body_encoding":"#, to: &out)
            } else {
                append(#"{"body":"#, to: &out)
                appendString(fetch.body, to: &out)
                append(#","body_encoding":"#, to: &out)
            }
            appendString(fetch.bodyEncoding.rawValue, to: &out)
            append(#","elapsed_ms":"#, to: &out)
            append("\(fetch.elapsedMs)", to: &out)
            append(#","final_url":"#, to: &out)
            appendString(fetch.finalURL, to: &out)
            append(#","headers":"#, to: &out)
            appendStringMap(fetch.headers, to: &out)
            append(#","kind":"fetch","size":"#, to: &out)
            append("\(fetch.size)", to: &out)
            append(#","status":"#, to: &out)
            append("\(fetch.status)", to: &out)
            if bodyLast {
                append(#","body":"#, to: &out)
                appendString(fetch.body, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A JSON value as compact text with sorted keys and unescaped slashes, as
    /// `JSONCoding.makeEncoder()` writes it.
    ///
    /// - Parameter value: The value.
    /// - Returns: Its JSON text (`"Data 1"`, `{"a":[1,2]}`, `null`).
    public static func value(_ value: JSONValue) -> String {
        var out: [UInt8] = []
        if append(value, to: &out) { return String(decoding: out, as: UTF8.self) }
        // A double: only JSONEncoder writes it the way JSONValue reads it back. A
        // non-finite one cannot be in a value that came from JSON.
        guard let data = try? JSONCoding.makeEncoder().encode(value) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Appends a JSON value; false when it holds a `double` (see `encode`).
    static func append(_ value: JSONValue, to out: inout [UInt8]) -> Bool {
        switch value {
        case .null:
            append("null", to: &out)
        case .bool(let bool):
            append(bool ? "true" : "false", to: &out)
        case .int(let int):
            append("\(int)", to: &out)
        case .double:
            return false
        case .string(let string):
            appendString(string, to: &out)
        case .array(let array):
            out.append(UInt8(ascii: "["))
            for (index, element) in array.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                guard append(element, to: &out) else { return false }
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            for (index, key) in object.keys.sorted().enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                appendString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                guard let element = object[key], append(element, to: &out) else { return false }
            }
            out.append(UInt8(ascii: "}"))
        }
        return true
    }

    static func append(_ text: String, to out: inout [UInt8]) {
        out.append(contentsOf: text.utf8)
    }

    /// Appends an object of strings, keys sorted (a fetch's headers).
    static func appendStringMap(_ map: [String: String], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        for (index, name) in map.keys.sorted().enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            appendString(name, to: &out)
            out.append(UInt8(ascii: ":"))
            appendString(map[name] ?? "", to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    /// A JSON string literal, quotes included: for the other places that write JSON by
    /// hand (the log's JSON format, the PostgreSQL change feed).
    public static func string(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 2)
        appendString(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends a JSON string literal: quotes, backslashes and control characters escaped.
    static func appendString(_ string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""):
                out.append(UInt8(ascii: "\\"))
                out.append(byte)
            case UInt8(ascii: "\\"):
                out.append(UInt8(ascii: "\\"))
                out.append(byte)
            case 0x0A:
                out.append(UInt8(ascii: "\\"))
                out.append(UInt8(ascii: "n"))
            case 0x0D:
                out.append(UInt8(ascii: "\\"))
                out.append(UInt8(ascii: "r"))
            case 0x09:
                out.append(UInt8(ascii: "\\"))
                out.append(UInt8(ascii: "t"))
            case 0..<0x20:
                out.append(contentsOf: Array(#"\u00"#.utf8))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            default:
                out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
