/// A recorded attempt failure: why one run of a job did not succeed.
///
/// Job failures are data, not API errors: executors throw a `JobError`, the runtime
/// records it on the attempt and, when no attempt is left, on the job.
public struct JobError: Error, Codable, Hashable, Sendable, CustomStringConvertible {
    /// A stable error code, compared by its raw string.
    public struct Code: RawRepresentable, Codable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        public init(from decoder: any Decoder) throws {
            rawValue = try decoder.singleValueContainer().decode(String.self)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(rawValue)
        }

        public var description: String { rawValue }

        /// The attempt ran past its `timeout`. Retryable.
        public static let timeout = Code(rawValue: "timeout")
        /// The TCP connection could not be made (refused, unreachable). Retryable.
        public static let connectFailed = Code(rawValue: "connect_failed")
        /// The host name did not resolve. Retryable.
        public static let dnsFailed = Code(rawValue: "dns_failed")
        /// The TLS handshake failed.
        public static let tlsFailed = Code(rawValue: "tls_failed")
        /// The server answered with a non-2xx status; the response is kept as the result.
        /// Retryable for 5xx and 429.
        public static let httpStatus = Code(rawValue: "http_status")
        /// The response body was larger than the cap.
        public static let bodyTooLarge = Code(rawValue: "body_too_large")
        /// The URL could not be fetched as given.
        public static let invalidURL = Code(rawValue: "invalid_url")
        /// Too many redirects, or a redirect cycle.
        public static let redirectLimit = Code(rawValue: "redirect_limit")
        /// The fetch's address (or a redirect's) is in a denied network, such as the
        /// link-local range where cloud metadata services live. Not retryable.
        public static let blockedDestination = Code(rawValue: "blocked_destination")
        /// A user cancelled the job while it ran.
        public static let cancelled = Code(rawValue: "cancelled")
        /// The daemon stopped or crashed while the attempt ran. Retryable.
        public static let interrupted = Code(rawValue: "interrupted")
        /// The server closed or reset the connection before the response was complete.
        /// Retryable.
        public static let connectionReset = Code(rawValue: "connection_reset")
        /// A delay job's `fail` message: the job's own code raised. Retryable (when the job
        /// has attempts left), as an exception in a task is in arq or Celery.
        public static let jobFailed = Code(rawValue: "job_failed")
        /// A job this one waited for (`after`) failed or was cancelled, and this one's
        /// `on_dependency_failure` is `cancel`: it never ran.
        public static let dependencyFailed = Code(rawValue: "dependency_failed")
        /// Any other failure (the network reset the connection, an unexpected error).
        public static let `internal` = Code(rawValue: "internal")
    }

    /// The stable code.
    public var code: Code
    /// A human-readable explanation.
    public var message: String
    /// For `http_status`: the status the server answered with.
    public var httpStatus: Int?

    public init(_ code: Code, _ message: String, httpStatus: Int? = nil) {
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
    }

    /// Whether another attempt may help: timeout, connect_failed, dns_failed,
    /// connection_reset, interrupted, job_failed, and http_status for 5xx and 429.
    public var isRetryable: Bool {
        switch code {
        case .timeout, .connectFailed, .dnsFailed, .connectionReset, .interrupted, .jobFailed: true
        case .httpStatus:
            if let status = httpStatus { status >= 500 || status == 429 } else { false }
        default: false
        }
    }

    public var description: String { "\(message) [\(code)]" }

    enum CodingKeys: String, CodingKey {
        case code
        case message
        case httpStatus = "http_status"
    }
}
