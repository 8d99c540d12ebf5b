extension JSONText {
    /// One field of a spec, as it is written.
    private enum SpecField {
        case string(String)
        case integer(Int)
        case number(Double)
        case value(JSONValue)
        case headers([String: String])
        case strings([String])
    }

    /// A job spec as stored: the text `JSONCoding.makeEncoder()` writes (sorted keys, no
    /// escaped slashes), without `JSONEncoder`, or nil when the spec holds what only
    /// `JSONEncoder` writes the same way (`run_at`, `after`, a fractional number, a value
    /// with a double); the caller falls back to it.
    ///
    /// `JSONEncoder` was 8 % of the daemon's CPU under W1 and 30 ms of a 10,000-job
    /// submit's 134 ms (docs/benchmarks.md, round two).
    ///
    /// - Parameter spec: The spec.
    /// - Returns: Its JSON text, or nil.
    public static func encode(_ spec: JobSpec) -> String? {
        guard spec.runAt == nil, spec.after == nil else { return nil }
        var fields: [(key: String, value: SpecField)] = []
        fields.reserveCapacity(8)
        switch spec.payload {
        case .delay(let delay):
            if let fail = delay.fail { fields.append(("fail", .string(fail))) }
            fields.append(("seconds", .number(delay.seconds)))
            if let value = delay.value { fields.append(("value", .value(value))) }
        case .fetch(let fetch):
            if let headers = fetch.headers { fields.append(("headers", .headers(headers))) }
            if let cap = fetch.maxBodyBytes { fields.append(("max_body_bytes", .integer(cap))) }
            fields.append(("url", .string(fetch.url)))
        }
        fields.append(("kind", .string(spec.kind.rawValue)))
        if let key = spec.key { fields.append(("key", .string(key))) }
        if let window = spec.keyWindow { fields.append(("key_window", .number(window))) }
        if let attempts = spec.maxAttempts { fields.append(("max_attempts", .integer(attempts))) }
        if let policy = spec.onDependencyFailure { fields.append(("on_dependency_failure", .string(policy.rawValue))) }
        if let policy = spec.onInterrupt { fields.append(("on_interrupt", .string(policy.rawValue))) }
        if let priority = spec.priority { fields.append(("priority", .integer(priority))) }
        if let tags = spec.tags { fields.append(("tags", .strings(tags))) }
        if let timeout = spec.timeout { fields.append(("timeout", .number(timeout))) }
        // The encoder's order: keys sorted by their UTF-8 bytes.
        fields.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }

        var out: [UInt8] = []
        out.reserveCapacity(96)
        out.append(UInt8(ascii: "{"))
        for (index, field) in fields.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            appendString(field.key, to: &out)
            out.append(UInt8(ascii: ":"))
            switch field.value {
            case .string(let text):
                appendString(text, to: &out)
            case .integer(let number):
                append(String(number), to: &out)
            case .number(let number):
                guard appendWholeNumber(number, to: &out) else { return nil }
            case .value(let value):
                guard append(value, to: &out) else { return nil }
            case .headers(let headers):
                appendStringMap(headers, to: &out)
            case .strings(let strings):
                out.append(UInt8(ascii: "["))
                for (position, text) in strings.enumerated() {
                    if position > 0 { out.append(UInt8(ascii: ",")) }
                    appendString(text, to: &out)
                }
                out.append(UInt8(ascii: "]"))
            }
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends a whole number held in a Double as `JSONEncoder` writes it (`1`, `-30`); false
    /// for anything else (a fraction, or beyond 2^53), which only `JSONEncoder` writes.
    private static func appendWholeNumber(_ number: Double, to out: inout [UInt8]) -> Bool {
        guard number.rounded() == number, abs(number) < 9_007_199_254_740_992, let whole = Int64(exactly: number)
        else { return false }
        // -0.0 is written with its sign, as the encoder does.
        append(number.sign == .minus && whole == 0 ? "-0" : String(whole), to: &out)
        return true
    }
}
