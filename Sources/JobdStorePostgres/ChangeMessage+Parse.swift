/// The change feed's JSON, read by hand. `JSONDecoder` took 37 % of a node's CPU in W2 on
/// three nodes (each node reads every other node's starts and finishes; a profile,
/// docs/benchmarks.md); this reads the same documents in a single pass over the bytes.
///
/// It accepts what `JSONDecoder` accepts for `ChangeMessage`: any key order, unknown keys
/// (skipped, whatever their value: a newer node may send more), `null` for an absent
/// field, whitespace anywhere, every string escape; and it refuses what `JSONDecoder`
/// refuses (a missing `o` or `c`, a value of the wrong type or range, trailing bytes), and
/// trailing commas, which `JSONDecoder` lets through and no node writes.
/// `ChangeMessageTests` holds the two side by side.
extension ChangeMessage {
    /// The message in `payload`, or nil when it is not one.
    static func parse(_ payload: String) -> ChangeMessage? {
        var payload = payload
        return payload.withUTF8 { bytes in
            var reader = ChangeMessageReader(bytes: bytes)
            return reader.message()
        }
    }
}

/// A cursor over one payload's bytes; every method returns nil at the first byte that
/// does not fit, and the whole message is then refused.
private struct ChangeMessageReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    mutating func message() -> ChangeMessage? {
        var origin: String?
        var entries: [ChangeMessage.Entry]?
        let ok = object { reader, key in
            switch key {
            case "o": origin = reader.nullable { $0.string() } ?? nil
            case "c": entries = reader.nullable { $0.array { $0.entry() } } ?? nil
            default: return reader.skipValue()
            }
            return true
        }
        skipSpace()
        guard ok, index == bytes.count, let origin, let entries else { return nil }
        return ChangeMessage(o: origin, c: entries)
    }

    private mutating func entry() -> ChangeMessage.Entry? {
        var type: String?
        var entry = ChangeMessage.Entry(t: "")
        var valid = true
        let ok = object { reader, key in
            // A present value of the wrong type refuses the message, as JSONDecoder does.
            func take<T>(_ read: (inout ChangeMessageReader) -> T?) -> T?? {
                guard let value = reader.nullable(read) else {
                    valid = false
                    return nil
                }
                return value
            }
            switch key {
            case "t": type = take { $0.string() } ?? nil
            case "u": entry.u = take { $0.integer().flatMap { UInt32(exactly: $0) } } ?? nil
            case "r": entry.r = take { $0.array { $0.array { $0.integer() } } } ?? nil
            case "j": entry.j = take { $0.integer() } ?? nil
            case "a": entry.a = take { $0.integer().flatMap { Int(exactly: $0) } } ?? nil
            case "s": entry.s = take { $0.string() } ?? nil
            case "ec": entry.ec = take { $0.string() } ?? nil
            case "em": entry.em = take { $0.string() } ?? nil
            case "eh": entry.eh = take { $0.integer().flatMap { Int(exactly: $0) } } ?? nil
            case "ra": entry.ra = take { $0.double() } ?? nil
            case "p": entry.p = take { $0.bool() } ?? nil
            case "b": entry.b = take { $0.integer() } ?? nil
            case "ps": entry.ps = take { $0.string() } ?? nil
            default: return reader.skipValue()
            }
            return valid
        }
        guard ok, valid, let type else { return nil }
        entry.t = type
        return entry
    }

    // MARK: JSON values

    /// `null` as `.some(nil)`, another value through `read`; nil when neither fits.
    private mutating func nullable<T>(_ read: (inout ChangeMessageReader) -> T?) -> T?? {
        skipSpace()
        if literal("null") { return .some(nil) }
        guard let value = read(&self) else { return nil }
        return .some(value)
    }

    /// An object, each member handed to `member` with the cursor on its value.
    private mutating func object(_ member: (inout ChangeMessageReader, String) -> Bool) -> Bool {
        skipSpace()
        guard consume(UInt8(ascii: "{")) else { return false }
        skipSpace()
        if consume(UInt8(ascii: "}")) { return true }
        while true {
            skipSpace()
            guard let key = string() else { return false }
            skipSpace()
            guard consume(UInt8(ascii: ":")), member(&self, key) else { return false }
            skipSpace()
            if consume(UInt8(ascii: "}")) { return true }
            guard consume(UInt8(ascii: ",")) else { return false }
        }
    }

    private mutating func array<T>(_ element: (inout ChangeMessageReader) -> T?) -> [T]? {
        skipSpace()
        guard consume(UInt8(ascii: "[")) else { return nil }
        var out: [T] = []
        skipSpace()
        if consume(UInt8(ascii: "]")) { return out }
        while true {
            skipSpace()
            guard let value = element(&self) else { return nil }
            out.append(value)
            skipSpace()
            if consume(UInt8(ascii: "]")) { return out }
            guard consume(UInt8(ascii: ",")) else { return nil }
        }
    }

    /// Skips any JSON value.
    private mutating func skipValue() -> Bool {
        skipSpace()
        guard index < bytes.count else { return false }
        switch bytes[index] {
        case UInt8(ascii: "{"): return object { reader, _ in reader.skipValue() }
        case UInt8(ascii: "["): return array { $0.skipValue() ? true : nil } != nil
        case UInt8(ascii: "\""): return string() != nil
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        default: return number() != nil
        }
    }

    private mutating func bool() -> Bool? {
        if literal("true") { return true }
        if literal("false") { return false }
        return nil
    }

    /// An integer; a number with a fraction or exponent is one only if it is whole.
    private mutating func integer() -> Int64? {
        guard let text = number() else { return nil }
        if let value = Int64(text) { return value }
        guard let value = Double(text), value.rounded() == value else { return nil }
        return Int64(exactly: value)
    }

    private mutating func double() -> Double? {
        number().flatMap { Double($0) }
    }

    /// The text of a number, checked against JSON's grammar.
    private mutating func number() -> Substring? {
        let start = index
        func digits(_ reader: inout ChangeMessageReader) -> Int {
            let from = reader.index
            while reader.index < reader.bytes.count, (48...57).contains(reader.bytes[reader.index]) {
                reader.index += 1
            }
            return reader.index - from
        }
        _ = consume(UInt8(ascii: "-"))
        let leadingZero = index < bytes.count && bytes[index] == UInt8(ascii: "0")
        let whole = digits(&self)
        guard whole > 0, !(leadingZero && whole > 1) else { return nil }
        if consume(UInt8(ascii: ".")) { guard digits(&self) > 0 else { return nil } }
        if consume(UInt8(ascii: "e")) || consume(UInt8(ascii: "E")) {
            if !consume(UInt8(ascii: "+")) { _ = consume(UInt8(ascii: "-")) }
            guard digits(&self) > 0 else { return nil }
        }
        return Substring(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
    }

    /// A string, its escapes resolved.
    private mutating func string() -> String? {
        guard consume(UInt8(ascii: "\"")) else { return nil }
        let start = index
        while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\") {
            guard bytes[index] >= 0x20 else { return nil }
            index += 1
        }
        guard index < bytes.count else { return nil }
        if bytes[index] == UInt8(ascii: "\"") {  // no escapes: the bytes as they are
            index += 1
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index - 1]), as: UTF8.self)
        }
        var out = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { return nil }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    guard let scalar = unicodeEscape() else { return nil }
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                default: return nil
                }
            default:
                guard byte >= 0x20 else { return nil }
                out.append(byte)
            }
        }
        return nil
    }

    /// The scalar of a `\u` escape (the `\u` already read), a surrogate pair included.
    private mutating func unicodeEscape() -> Unicode.Scalar? {
        guard let high = hex4() else { return nil }
        if (0xD800...0xDBFF).contains(high) {
            guard consume(UInt8(ascii: "\\")), consume(UInt8(ascii: "u")), let low = hex4(),
                (0xDC00...0xDFFF).contains(low)
            else { return nil }
            return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
        }
        return Unicode.Scalar(high)
    }

    private mutating func hex4() -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = Character(Unicode.Scalar(bytes[index])).hexDigitValue else { return nil }
            value = value << 4 + UInt32(digit)
            index += 1
        }
        return value
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { return false }
        index += count
        return true
    }

    private mutating func consume(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    private mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }
}
