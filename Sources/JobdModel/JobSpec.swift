import Foundation

/// What a fetch job fetches.
public struct FetchSpec: Codable, Hashable, Sendable {
    /// The `http` or `https` URL to GET.
    public var url: String
    /// Extra request headers.
    public var headers: [String: String]?
    /// A per-job body cap in bytes, lower than the daemon's (never higher).
    public var maxBodyBytes: Int?

    public init(url: String, headers: [String: String]? = nil, maxBodyBytes: Int? = nil) {
        self.url = url
        self.headers = headers
        self.maxBodyBytes = maxBodyBytes
    }

    enum CodingKeys: String, CodingKey {
        case url
        case headers
        case maxBodyBytes = "max_body_bytes"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        url = try container.decode(String.self, forKey: .url)
        headers = try container.decodeIfPresent([String: String].self, forKey: .headers)
        maxBodyBytes = try container.decodeWholeNumberIfPresent(forKey: .maxBodyBytes)
    }
}

extension FetchSpec {
    /// The `host:port` the fetch connects to first (lower-cased, default port by scheme),
    /// the key of the per-host limit; nil when the URL has no host.
    public var hostKey: String? {
        guard let components = URLComponents(string: url), let host = components.host?.lowercased(), !host.isEmpty
        else { return nil }
        let port = components.port ?? (components.scheme?.lowercased() == "https" ? 443 : 80)
        return "\(host):\(port)"
    }
}

extension KeyedDecodingContainer {
    /// Decodes an integer field, naming the field when the number is fractional or out of
    /// range (Foundation would report that as invalid JSON with no field on Linux).
    func decodeWholeNumberIfPresent(forKey key: Key) throws -> Int? {
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        if let value = try? decode(Int.self, forKey: key) { return value }
        let number = try decode(Double.self, forKey: key)
        guard number.rounded() == number, let value = Int(exactly: number) else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: self, debugDescription: "\(key.stringValue) must be a whole number, got \(number)")
        }
        return value
    }
}

/// What a delay job does: sleep, then return `value` or raise `fail`.
public struct DelaySpec: Codable, Hashable, Sendable {
    /// How long to sleep, in seconds (0 or more).
    public var seconds: Double
    /// The value returned after the sleep (JSON `null` when absent).
    public var value: JSONValue?
    /// When set, the job raises `job_failed` with this message after sleeping.
    public var fail: String?

    public init(seconds: Double, value: JSONValue? = nil, fail: String? = nil) {
        self.seconds = seconds
        self.value = value
        self.fail = fail
    }
}

/// The kind-specific half of a job spec.
public enum JobPayload: Hashable, Sendable {
    case fetch(FetchSpec)
    case delay(DelaySpec)

    /// The kind this payload belongs to.
    public var kind: JobKind {
        switch self {
        case .fetch: .fetch
        case .delay: .delay
        }
    }
}

/// A job as submitted: the payload plus the fields common to every kind.
///
/// On the wire it is one flat object, for example
/// `{"kind":"delay","seconds":1.5,"value":"Data 1","timeout":10}`. Absent common fields
/// take the daemon's defaults when the job is stored.
public struct JobSpec: Codable, Hashable, Sendable {
    /// The kind-specific fields.
    public var payload: JobPayload
    /// The per-attempt time limit in seconds; nil means the daemon's default for the kind.
    public var timeout: Double?
    /// How many attempts the job may use (1 = no retries); nil means the daemon's default.
    public var maxAttempts: Int?
    /// Higher runs first; FIFO within one priority. Default 0.
    public var priority: Int?
    /// Do not start before this time. Default: now.
    public var runAt: Date?
    /// What to do when a crash or stop interrupts an attempt. Default `retry`.
    public var onInterrupt: InterruptPolicy?
    /// An idempotency key: a second submit with the same key returns the first job.
    public var key: String?
    /// Jobs that must end before this one starts (ids, or `"@N"` positions of the same
    /// batch); until then the job is `waiting`.
    public var after: [JobDependency]?
    /// What happens when one of them fails or is cancelled. Default `cancel`.
    public var onDependencyFailure: DependencyFailurePolicy?
    /// Labels to find the job by (`GET /v1/jobs?tag=`): at most `JobSpec.maxTags`, each
    /// 1 to `JobSpec.maxTagLength` characters of `A-Z a-z 0-9 _ . : -`, no repeats.
    public var tags: [String]?
    /// With `key`: the key may be used again once this many seconds have passed since the
    /// job holding it was submitted (the holder keeps running; it just gives up the key).
    /// Without it a key stays taken for as long as its job is stored.
    public var keyWindow: Double?

    public init(
        _ payload: JobPayload,
        timeout: Double? = nil,
        maxAttempts: Int? = nil,
        priority: Int? = nil,
        runAt: Date? = nil,
        onInterrupt: InterruptPolicy? = nil,
        key: String? = nil,
        after: [JobDependency]? = nil,
        onDependencyFailure: DependencyFailurePolicy? = nil,
        tags: [String]? = nil,
        keyWindow: Double? = nil
    ) {
        self.payload = payload
        self.timeout = timeout
        self.maxAttempts = maxAttempts
        self.priority = priority
        self.runAt = runAt
        self.onInterrupt = onInterrupt
        self.key = key
        self.after = after
        self.onDependencyFailure = onDependencyFailure
        self.tags = tags
        self.keyWindow = keyWindow
    }

    /// The job's kind.
    public var kind: JobKind { payload.kind }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case kind
        case timeout
        case maxAttempts = "max_attempts"
        case priority
        case runAt = "run_at"
        case onInterrupt = "on_interrupt"
        case key
        case after
        case onDependencyFailure = "on_dependency_failure"
        case tags
        case keyWindow = "key_window"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let kind = try container.decode(JobKind.self, forKey: .kind)
        if decoder.userInfo[JSONCoding.strictKey] as? Bool == true {
            try Self.refuseUnknownFields(decoder, kind: kind)
        }
        switch kind {
        case .fetch: payload = .fetch(try FetchSpec(from: decoder))
        case .delay: payload = .delay(try DelaySpec(from: decoder))
        }
        timeout = try container.decodeIfPresent(Double.self, forKey: .timeout)
        maxAttempts = try container.decodeWholeNumberIfPresent(forKey: .maxAttempts)
        priority = try container.decodeWholeNumberIfPresent(forKey: .priority)
        runAt = try container.decodeIfPresent(Date.self, forKey: .runAt)
        onInterrupt = try container.decodeIfPresent(InterruptPolicy.self, forKey: .onInterrupt)
        key = try container.decodeIfPresent(String.self, forKey: .key)
        after = try container.decodeIfPresent([JobDependency].self, forKey: .after)
        onDependencyFailure = try container.decodeIfPresent(
            DependencyFailurePolicy.self, forKey: .onDependencyFailure)
        tags = try container.decodeIfPresent([String].self, forKey: .tags)
        keyWindow = try container.decodeIfPresent(Double.self, forKey: .keyWindow)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        switch payload {
        case .fetch(let fetch): try fetch.encode(to: encoder)
        case .delay(let delay): try delay.encode(to: encoder)
        }
        try container.encodeIfPresent(timeout, forKey: .timeout)
        try container.encodeIfPresent(maxAttempts, forKey: .maxAttempts)
        try container.encodeIfPresent(priority, forKey: .priority)
        try container.encodeIfPresent(runAt, forKey: .runAt)
        try container.encodeIfPresent(onInterrupt, forKey: .onInterrupt)
        try container.encodeIfPresent(key, forKey: .key)
        try container.encodeIfPresent(after, forKey: .after)
        try container.encodeIfPresent(onDependencyFailure, forKey: .onDependencyFailure)
        try container.encodeIfPresent(tags, forKey: .tags)
        try container.encodeIfPresent(keyWindow, forKey: .keyWindow)
    }
}
