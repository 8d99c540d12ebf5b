import Foundation

/// A parser for the usual submit body, beside `JSONDecoder`: a spec, or `{"jobs":[…]}`, of
/// plain fields, read from the bytes in one pass into the `SubmitJobsRequest` the decoder
/// would make.
///
/// Foundation's decoder spent about 1.7 µs of CPU on each job of a 1,000-job submit
/// (containers, key dictionaries and generic metadata per spec: 18 % of jobd's CPU in W1).
/// This path reads only what it is sure of and gives up (nil) on anything else: an unknown
/// or repeated field, a wrong type, a string with an escape, a number that is not plain, a
/// field it does not read (`headers`, `run_at`, `"@N"` positions), a value other than a
/// plain string, whole number, boolean or null. The caller then decodes with `JSONDecoder`,
/// so every error still comes from there, with its field and message; and anything this
/// path accepts decodes to the same value there (`SubmitFastPathTests`, and the fuzzer
/// checks it on every input).
public enum SubmitFastPath {
    /// The request `JSONCoding.makeDecoder(strict: true)` would decode from `body`, or nil
    /// when this path does not read it (which says nothing about whether it is valid).
    /// `body` must be valid UTF-8.
    public static func parse(_ body: Data) -> SubmitJobsRequest? {
        body.withUnsafeBytes { raw in
            var reader = Reader(bytes: raw.bindMemory(to: UInt8.self))
            guard let request = reader.request(), reader.atEnd() else { return nil }
            return request
        }
    }

    /// The spec `JSONCoding.makeDecoder()` would decode from `text`, or nil when this path
    /// does not read it: the engines' claims read stored specs this way. What the strict
    /// reading accepts has only known fields, which the lenient decoder reads the same.
    public static func spec(_ text: String) -> JobSpec? {
        var text = text
        return text.withUTF8 { bytes in
            var reader = Reader(bytes: bytes)
            guard let spec = reader.spec(), reader.atEnd() else { return nil }
            return spec
        }
    }
}

private struct Reader {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    // MARK: Bytes

    mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func atEnd() -> Bool {
        skipSpace()
        return index == bytes.count
    }

    /// Consumes `byte` after any space.
    mutating func take(_ byte: UInt8) -> Bool {
        skipSpace()
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    mutating func peek() -> UInt8? {
        skipSpace()
        return index < bytes.count ? bytes[index] : nil
    }

    /// Consumes a literal word (`true`, `false`, `null`).
    mutating func word(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        for offset in 0..<count where bytes[index + offset] != text.utf8Start[offset] { return false }
        index += count
        return true
    }

    // MARK: Values

    /// A string without escapes or control characters.
    mutating func plainString() -> String? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
            index += 1
        }
        return nil
    }

    /// The text of a JSON number (RFC 8259 grammar), and whether it is a plain integer.
    mutating func numberText() -> (text: String, integer: Bool)? {
        skipSpace()
        let start = index
        func digits(_ reader: inout Reader) -> Int {
            let from = reader.index
            while reader.index < reader.bytes.count, reader.bytes[reader.index] >= 0x30,
                reader.bytes[reader.index] <= 0x39
            {
                reader.index += 1
            }
            return reader.index - from
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        let intStart = index
        let intDigits = digits(&self)
        guard intDigits > 0, intDigits == 1 || bytes[intStart] != UInt8(ascii: "0") else { return nil }
        var integer = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits(&self) > 0 else { return nil }
            integer = false
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard digits(&self) > 0 else { return nil }
            integer = false
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        return (text, integer)
    }

    /// A finite number.
    mutating func double() -> Double? {
        guard let (text, _) = numberText(), let value = Double(text), value.isFinite, !value.isSubnormal else {
            return nil
        }
        if value == 0 {
            // A negative zero is left to the decoder (it may read "-0" as the integer 0),
            // and so is a number that underflows to zero (`1e-400`), which it refuses.
            let mantissa = text.prefix { $0 != "e" && $0 != "E" }
            guard value.sign == .plus, !mantissa.contains(where: { ("1"..."9").contains($0) }) else { return nil }
        }
        return value
    }

    /// A plain integer (no fraction, no exponent) within `Int`.
    mutating func integer() -> Int? {
        guard let (text, integer) = numberText(), integer else { return nil }
        return Int(text)
    }

    /// `null` after any space.
    mutating func null() -> Bool {
        skipSpace()
        return word("null")
    }

    /// A `value` field: a plain string, a whole number within `Int64`, a boolean, or
    /// nil for `null` (an absent value, as the decoder reads an optional's null).
    mutating func value() -> JSONValue?? {
        switch peek() {
        case UInt8(ascii: "\""): return plainString().map { .some(.string($0)) }
        case UInt8(ascii: "t"): return word("true") ? .some(.bool(true)) : nil
        case UInt8(ascii: "f"): return word("false") ? .some(.bool(false)) : nil
        case UInt8(ascii: "n"): return word("null") ? .some(nil) : nil
        default:
            guard let (text, integer) = numberText(), integer, let whole = Int64(text) else { return nil }
            return .some(.int(whole))
        }
    }

    /// An array read element by element with `element`.
    mutating func array<T>(_ element: (inout Reader) -> T?) -> [T]? {
        guard take(UInt8(ascii: "[")) else { return nil }
        var items: [T] = []
        if take(UInt8(ascii: "]")) { return items }
        repeat {
            guard let item = element(&self) else { return nil }
            items.append(item)
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "]")) ? items : nil
    }

    // MARK: Bodies

    mutating func request() -> SubmitJobsRequest? {
        let start = index
        guard take(UInt8(ascii: "{")) else { return nil }
        // `{"jobs": [...]}` alone is a batch; any other object is one spec.
        if plainString() == "jobs", take(UInt8(ascii: ":")) {
            guard let specs = array({ $0.spec() }), take(UInt8(ascii: "}")) else { return nil }
            return .batch(specs)
        }
        index = start
        return spec().map { .single($0) }
    }

    /// One spec object; nil for anything the decoder might read differently.
    mutating func spec() -> JobSpec? {
        guard take(UInt8(ascii: "{")) else { return nil }
        var fields = SpecFields()
        if take(UInt8(ascii: "}")) { return nil }
        repeat {
            guard let name = plainString(), take(UInt8(ascii: ":")), fields.read(name, from: &self) else { return nil }
        } while take(UInt8(ascii: ","))
        guard take(UInt8(ascii: "}")) else { return nil }
        return fields.spec()
    }
}

/// The fields of one spec as read, each at most once: a field read already is non-nil
/// (an optional one read as `null` is `.some(nil)`), so a repeat is told without a set.
private struct SpecFields {
    var kind: JobKind?
    var url: String?
    var maxBodyBytes: Int??
    var seconds: Double?
    var value: JSONValue??
    var fail: String??
    var timeout: Double??
    var maxAttempts: Int??
    var priority: Int??
    var onInterrupt: InterruptPolicy??
    var key: String??
    var after: [JobDependency]??
    var onDependencyFailure: DependencyFailurePolicy??
    var tags: [String]??
    var keyWindow: Double??

    /// Reads the value of field `name`; false for a field or value this path does not take.
    mutating func read(_ name: String, from reader: inout Reader) -> Bool {
        switch name {
        case "kind":
            guard kind == nil, let text = reader.plainString(), let kind = JobKind(rawValue: text) else { return false }
            self.kind = kind
        case "url":
            guard url == nil, let text = reader.plainString() else { return false }
            url = text
        case "seconds":
            guard seconds == nil, let number = reader.double() else { return false }
            seconds = number
        case "value":
            guard value == nil, let read = reader.value() else { return false }
            value = .some(read)
        case "fail": return Self.optional(&fail, reader: &reader) { $0.plainString() }
        case "max_body_bytes": return Self.optional(&maxBodyBytes, reader: &reader) { $0.integer() }
        case "timeout": return Self.optional(&timeout, reader: &reader) { $0.double() }
        case "max_attempts": return Self.optional(&maxAttempts, reader: &reader) { $0.integer() }
        case "priority": return Self.optional(&priority, reader: &reader) { $0.integer() }
        case "key": return Self.optional(&key, reader: &reader) { $0.plainString() }
        case "key_window": return Self.optional(&keyWindow, reader: &reader) { $0.double() }
        case "on_interrupt":
            return Self.optional(&onInterrupt, reader: &reader) { $0.plainString().flatMap(InterruptPolicy.init) }
        case "on_dependency_failure":
            return Self.optional(&onDependencyFailure, reader: &reader) {
                $0.plainString().flatMap(DependencyFailurePolicy.init)
            }
        case "tags":
            return Self.optional(&tags, reader: &reader) { $0.array { $0.plainString() } }
        case "after":
            // Job ids only; a position (`"@N"`) is left to the decoder.
            return Self.optional(&after, reader: &reader) { reader in
                reader.array { element in
                    guard let id = element.integer(), id > 0 else { return nil }
                    return JobDependency.job(JobID(Int64(id)))
                }
            }
        default:
            return false
        }
        return true
    }

    /// An optional field: `null` is nil, as `decodeIfPresent` reads it; false when the
    /// field was read already.
    private static func optional<T>(_ field: inout T??, reader: inout Reader, _ read: (inout Reader) -> T?) -> Bool {
        guard field == nil else { return false }
        if reader.null() {
            field = .some(nil)
            return true
        }
        guard let value = read(&reader) else { return false }
        field = .some(value)
        return true
    }

    /// The spec, if the fields make one the strict decoder takes as they are.
    func spec() -> JobSpec? {
        guard let kind else { return nil }
        let payload: JobPayload
        switch kind {
        case .delay:
            guard let seconds, url == nil, maxBodyBytes == nil else { return nil }
            payload = .delay(DelaySpec(seconds: seconds, value: value ?? nil, fail: fail ?? nil))
        case .fetch:
            guard let url, seconds == nil, value == nil, fail == nil else { return nil }
            payload = .fetch(FetchSpec(url: url, headers: nil, maxBodyBytes: maxBodyBytes ?? nil))
        }
        return JobSpec(
            payload, timeout: timeout ?? nil, maxAttempts: maxAttempts ?? nil, priority: priority ?? nil,
            onInterrupt: onInterrupt ?? nil, key: key ?? nil, after: after ?? nil,
            onDependencyFailure: onDependencyFailure ?? nil, tags: tags ?? nil, keyWindow: keyWindow ?? nil)
    }
}
