/// What a fetch job got back.
///
/// A non-2xx answer is a result too: the attempt fails with `http_status` and the
/// response is kept here.
public struct FetchResult: Codable, Hashable, Sendable {
    /// How `body` is encoded.
    public enum BodyEncoding: String, Codable, Hashable, Sendable {
        /// The body is the response's bytes as UTF-8 text.
        case utf8
        /// The body was not valid UTF-8 and is base64.
        case base64
    }

    /// The HTTP status code.
    public var status: Int
    /// Selected response headers (lower-cased names).
    public var headers: [String: String]
    /// The body, as text or base64.
    public var body: String
    /// How `body` is encoded.
    public var bodyEncoding: BodyEncoding
    /// The body's size in bytes.
    public var size: Int
    /// Milliseconds from the start of the request to the end of the body.
    public var elapsedMs: Double
    /// The URL after redirects.
    public var finalURL: String

    public init(
        status: Int, headers: [String: String], body: String, bodyEncoding: BodyEncoding,
        size: Int, elapsedMs: Double, finalURL: String
    ) {
        self.status = status
        self.headers = headers
        self.body = body
        self.bodyEncoding = bodyEncoding
        self.size = size
        self.elapsedMs = elapsedMs
        self.finalURL = finalURL
    }

    enum CodingKeys: String, CodingKey {
        case status
        case headers
        case body
        case bodyEncoding = "body_encoding"
        case size
        case elapsedMs = "elapsed_ms"
        case finalURL = "final_url"
    }
}

/// What a delay job returns: the value it was given.
public struct DelayResult: Codable, Hashable, Sendable {
    /// The spec's `value` (JSON `null` when it had none).
    public var value: JSONValue

    public init(value: JSONValue) { self.value = value }
}

/// The result of a job's last attempt.
///
/// On the wire it is one object tagged with `kind`:
/// `{"kind":"delay","value":"Data 1"}` or `{"kind":"fetch","status":200,...}`.
public enum JobResult: Codable, Hashable, Sendable {
    case fetch(FetchResult)
    case delay(DelayResult)

    enum CodingKeys: String, CodingKey { case kind }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(JobKind.self, forKey: .kind) {
        case .fetch: self = .fetch(try FetchResult(from: decoder))
        case .delay: self = .delay(try DelayResult(from: decoder))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .fetch(let result):
            try container.encode(JobKind.fetch, forKey: .kind)
            try result.encode(to: encoder)
        case .delay(let result):
            try container.encode(JobKind.delay, forKey: .kind)
            try result.encode(to: encoder)
        }
    }
}
