/// Why the dispatcher refused a request; the server maps each code to its API answer.
///
/// A job failing is never a `DispatchError`: that is data (`JobError`, recorded).
public struct DispatchError: Error, Sendable, CustomStringConvertible {
    /// A stable error code, compared by its raw string.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A graceful shutdown has begun: no new jobs.
        public static let shuttingDown = Code(rawValue: "shutting_down")
        /// The backlog is at `max_queued`; nothing was stored.
        public static let queueFull = Code(rawValue: "queue_full")
        /// An idempotency key belongs to another submitter's job; nothing was stored.
        public static let keyTaken = Code(rawValue: "key_taken")
        /// No job has the id.
        public static let notFound = Code(rawValue: "not_found")
        /// The job's state does not allow the request (a cancel of a finished job, a retry
        /// of an unfinished one).
        public static let invalidState = Code(rawValue: "invalid_state")
    }

    /// The stable code.
    public var code: Code
    /// What happened, for people.
    public var message: String

    /// Makes an error.
    ///
    /// - Parameters:
    ///   - code: The stable code.
    ///   - message: What happened.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(message) [\(code)]" }
}
