import Foundation

extension JobSpec {
    /// The largest `seconds` a delay may ask for (30 days).
    public static let maxDelaySeconds: Double = 30 * 24 * 3600
    /// The largest `max_attempts` a job may ask for.
    public static let maxAttemptsLimit = 100
    /// The largest idempotency key, in bytes.
    public static let maxKeyBytes = 256
    /// The most tags one job may carry.
    public static let maxTags = 16
    /// The longest tag, in characters (each one byte: see `isValidTag`).
    public static let maxTagLength = 64
    /// The longest `key_window`, in seconds (10 years of 365 days).
    public static let maxKeyWindowSeconds: Double = 10 * 365 * 86_400

    /// True when `tag` is 1 to `maxTagLength` characters of `A-Z a-z 0-9 _ . : -`.
    ///
    /// The set is what a URL query, a shell argument and a log line carry without quoting,
    /// and it has room for the usual shapes (`team:payments`, `batch-2026.11`, `v1_2`).
    /// Tags compare byte for byte: `Nightly` and `nightly` are two tags.
    public static func isValidTag(_ tag: String) -> Bool {
        let bytes = tag.utf8
        return !bytes.isEmpty && bytes.count <= maxTagLength
            && bytes.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":"),
                    UInt8(ascii: "-"):
                    true
                default:
                    false
                }
            }
    }

    /// Checks the spec's values, beyond what decoding checks.
    ///
    /// - Parameter fieldPrefix: Prepended to the field name in the error (`jobs[3].`).
    /// - Throws: `APIError` with `invalid_spec` (field named) or `invalid_url`.
    public func validate(fieldPrefix: String = "") throws(APIError) {
        func invalid(_ field: String, _ message: String) -> APIError {
            APIError(.invalidSpec, message, field: fieldPrefix + field)
        }
        switch payload {
        case .delay(let delay):
            guard delay.seconds.isFinite, delay.seconds >= 0 else {
                throw invalid("seconds", "seconds must be a number 0 or more, got \(delay.seconds)")
            }
            guard delay.seconds <= Self.maxDelaySeconds else {
                throw invalid("seconds", "seconds must be at most \(Int(Self.maxDelaySeconds)) (30 days)")
            }
        case .fetch(let fetch):
            try Self.validateFetchURL(fetch.url, field: fieldPrefix + "url")
            if let cap = fetch.maxBodyBytes, cap < 0 {
                throw invalid("max_body_bytes", "max_body_bytes must be 0 or more")
            }
            for (name, value) in fetch.headers ?? [:] {
                let nameIsToken =
                    !name.isEmpty
                    && name.utf8.allSatisfy { byte in
                        byte > 32 && byte < 127 && !"()<>@,;:\\\"/[]?={}".utf8.contains(byte)
                    }
                guard nameIsToken, !value.contains("\r"), !value.contains("\n") else {
                    throw invalid("headers", "header \(name.debugDescription) is not a valid HTTP header")
                }
            }
        }
        if let timeout {
            guard timeout.isFinite, timeout > 0 else {
                throw invalid("timeout", "timeout must be a number of seconds above 0, got \(timeout)")
            }
            // Bounded like a delay: a timeout of 1e10 s would overflow the runtime's
            // nanosecond timers (docs/security.md).
            guard timeout <= Self.maxDelaySeconds else {
                throw invalid("timeout", "timeout must be at most \(Int(Self.maxDelaySeconds)) seconds (30 days)")
            }
        }
        if let maxAttempts {
            guard (1...Self.maxAttemptsLimit).contains(maxAttempts) else {
                throw invalid("max_attempts", "max_attempts must be 1 to \(Self.maxAttemptsLimit), got \(maxAttempts)")
            }
        }
        if let key {
            guard !key.isEmpty, key.utf8.count <= Self.maxKeyBytes else {
                throw invalid("key", "key must be 1 to \(Self.maxKeyBytes) bytes")
            }
            guard !key.hasPrefix(ScheduleSpec.keyPrefix) else {
                throw invalid("key", "keys starting with \"\(ScheduleSpec.keyPrefix)\" are reserved for schedules")
            }
        }
        if let keyWindow {
            guard key != nil else {
                throw invalid("key_window", "key_window needs a key: it says how long the key stays taken")
            }
            guard keyWindow.isFinite, keyWindow > 0, keyWindow <= Self.maxKeyWindowSeconds else {
                throw invalid(
                    "key_window",
                    "key_window must be a number of seconds above 0 and at most \(Int(Self.maxKeyWindowSeconds)) (10 years)"
                )
            }
        }
        if let tags {
            guard tags.count <= Self.maxTags else {
                throw invalid("tags", "a job may have at most \(Self.maxTags) tags, got \(tags.count)")
            }
            // Repeats are refused rather than dropped: the stored spec is the one submitted.
            var seen = Set<String>()
            for (index, tag) in tags.enumerated() {
                guard Self.isValidTag(tag) else {
                    throw invalid(
                        "tags[\(index)]",
                        "tag \(tag.debugDescription) must be 1 to \(Self.maxTagLength) characters of A-Z a-z 0-9 _ . : -"
                    )
                }
                guard seen.insert(tag).inserted else {
                    throw invalid("tags[\(index)]", "tag \(tag.debugDescription) is given twice")
                }
            }
        }
    }

    /// Checks that a fetch URL is absolute `http`/`https` with a host.
    ///
    /// - Throws: `APIError` with `invalid_url`.
    public static func validateFetchURL(_ text: String, field: String = "url") throws(APIError) {
        guard let components = URLComponents(string: text),
            let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https",
            let host = components.host, !host.isEmpty
        else {
            throw APIError(
                .invalidURL,
                "url must be an absolute http:// or https:// URL with a host, got \(text.debugDescription)",
                field: field)
        }
    }
}

extension SubmitJobsRequest {
    /// Decodes and validates a submit body, naming what is wrong in a stable code.
    ///
    /// - Parameters:
    ///   - data: The request body.
    ///   - maxBatch: The most jobs one batch may hold.
    /// - Returns: The decoded request, every spec validated.
    /// - Throws: `APIError` with `invalid_json` (not JSON or not UTF-8), `unknown_kind`,
    ///   `invalid_spec` (a field missing, of the wrong type or out of range; `field` names
    ///   it), `invalid_url`, or `batch_too_large`.
    public static func decode(_ data: some DataProtocol, maxBatch: Int) throws(APIError) -> SubmitJobsRequest {
        let body = Data(data)
        // JSON text is UTF-8 (RFC 8259 8.1). Checked first, so a bad byte inside a string
        // is `invalid_json` rather than whatever type the decoder was trying at the time.
        guard String(validating: body, as: UTF8.self) != nil else {
            throw APIError(.invalidJSON, "the body is not valid UTF-8")
        }
        let request: SubmitJobsRequest
        do {
            // The usual body is read in one pass; the decoder reads the rest, and says
            // what is wrong with a bad one.
            request =
                try SubmitFastPath.parse(body)
                ?? JSONCoding.makeDecoder(strict: true).decode(SubmitJobsRequest.self, from: body)
        } catch let error as DecodingError {
            throw APIError(decoding: error)
        } catch {
            throw APIError(.invalidJSON, "the body is not valid JSON")
        }
        switch request {
        case .single(let spec):
            try spec.validate()
            try JobSpec.validateDependencies([spec], inBatch: false)
        case .batch(let specs):
            guard !specs.isEmpty else {
                throw APIError(.invalidSpec, "a batch needs at least one job", field: "jobs")
            }
            guard specs.count <= maxBatch else {
                throw APIError(
                    .batchTooLarge, "a batch may hold at most \(maxBatch) jobs, got \(specs.count)", field: "jobs")
            }
            for (index, spec) in specs.enumerated() {
                try spec.validate(fieldPrefix: "jobs[\(index)].")
            }
            try JobSpec.validateDependencies(specs, inBatch: true)
        }
        return request
    }
}

extension APIError {
    /// Turns a decoding failure into `invalid_json`, `unknown_kind` or `invalid_spec`.
    public init(decoding error: DecodingError) {
        func path(_ codingPath: [any CodingKey]) -> String {
            var text = ""
            for key in codingPath {
                if let index = key.intValue {
                    text += "[\(index)]"
                } else {
                    text += text.isEmpty ? key.stringValue : "." + key.stringValue
                }
            }
            return text
        }
        switch error {
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                self.init(.invalidJSON, "the body is not valid JSON")
            } else if context.debugDescription.hasPrefix(JobSpec.unknownFieldMarker) {
                self.init(
                    .invalidSpec, "\(path(context.codingPath)): " + context.debugDescription.dropFirst(),
                    field: path(context.codingPath))
            } else if context.codingPath.last?.stringValue == "kind" {
                let kinds = JobKind.allCases.map(\.rawValue).joined(separator: ", ")
                self.init(.unknownKind, "unknown job kind; expected one of: \(kinds)", field: path(context.codingPath))
            } else {
                self.init(
                    .invalidSpec, "\(path(context.codingPath)) has an invalid value: \(context.debugDescription)",
                    field: path(context.codingPath))
            }
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            self.init(.invalidSpec, "\(field) is required", field: field)
        case .typeMismatch(let type, let context):
            let field = path(context.codingPath)
            if context.codingPath.isEmpty {
                self.init(.invalidSpec, "the body must be a JSON object")
            } else {
                self.init(.invalidSpec, "\(field) must be of type \(type)", field: field)
            }
        case .valueNotFound(let type, let context):
            let field = path(context.codingPath)
            if context.codingPath.isEmpty {
                // A body of `null`: there is no field to name.
                self.init(.invalidSpec, "the body must be a JSON object")
            } else {
                self.init(.invalidSpec, "\(field) must be a \(type), not null", field: field)
            }
        @unknown default:
            self.init(.invalidJSON, "the body could not be decoded")
        }
    }
}
