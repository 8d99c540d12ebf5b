/// The error the API answers with: `{"error":{"code","message","field"}}`.
///
/// Codes are stable strings that scripts match on. Adding a code is not a breaking
/// change; renaming or reusing one is.
public struct APIError: Error, Codable, Hashable, Sendable, CustomStringConvertible {
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

        /// The body is not valid JSON (or not UTF-8). 400.
        public static let invalidJSON = Code(rawValue: "invalid_json")
        /// The `kind` field names no known job kind. 400.
        public static let unknownKind = Code(rawValue: "unknown_kind")
        /// A field of the job spec is missing or out of range; `field` names it. 400.
        public static let invalidSpec = Code(rawValue: "invalid_spec")
        /// A fetch URL is not an absolute `http`/`https` URL with a host. 400.
        public static let invalidURL = Code(rawValue: "invalid_url")
        /// A query parameter is malformed; `field` names it. 400.
        public static let invalidQuery = Code(rawValue: "invalid_query")
        /// No job has this id. 404.
        public static let jobNotFound = Code(rawValue: "job_not_found")
        /// No batch has this id, or it is another user's (404).
        public static let batchNotFound = Code(rawValue: "batch_not_found")
        /// No schedule has this name, or it is another user's (404).
        public static let scheduleNotFound = Code(rawValue: "schedule_not_found")
        /// The schedule name is taken by another user's schedule or by the configuration
        /// file. 409.
        public static let scheduleExists = Code(rawValue: "schedule_exists")
        /// No route matches the path. 404.
        public static let routeNotFound = Code(rawValue: "route_not_found")
        /// The path exists but does not take the request's method; the `Allow` header lists
        /// the methods it takes. 405.
        public static let methodNotAllowed = Code(rawValue: "method_not_allowed")
        /// The job is not in a state that allows the action. 409.
        public static let invalidState = Code(rawValue: "invalid_state")
        /// The job has not finished yet (`waiting`, `queued` or `running`), so it has no
        /// result to answer (`GET /v1/jobs/{id}/result`). 409.
        public static let notFinished = Code(rawValue: "not_finished")
        /// The job finished without a result to answer (`GET /v1/jobs/{id}/result`): it
        /// was cancelled, or failed before an answer (an `http_status` failure keeps its
        /// response, which is answered). The message names the job's error. 409.
        public static let noResult = Code(rawValue: "no_result")
        /// The request body is over the size limit. 413.
        public static let payloadTooLarge = Code(rawValue: "payload_too_large")
        /// A batch holds more jobs than the batch limit. 413.
        public static let batchTooLarge = Code(rawValue: "batch_too_large")
        /// The peer's uid or gid is not allowed to use jobd. 403.
        public static let forbidden = Code(rawValue: "forbidden")
        /// A dashboard request without a valid dashboard token or cookie (none, unknown, or
        /// its `jobctl dashboard` session ended). 401.
        public static let unauthorized = Code(rawValue: "unauthorized")
        /// The backlog is at `max_queued`; try again after `Retry-After`. Nothing was stored. 429.
        public static let queueFull = Code(rawValue: "queue_full")
        /// The daemon is stopping and takes no new work. 503.
        public static let shuttingDown = Code(rawValue: "shutting_down")
        /// The database's disk is full; nothing was stored. 507.
        public static let diskFull = Code(rawValue: "disk_full")
        /// Another process holds a lock on the database past the busy timeout; nothing was
        /// stored. Try again after `Retry-After`. 503.
        public static let databaseBusy = Code(rawValue: "database_busy")
        /// The database cannot be written or read: its file or file system is read-only, an
        /// I/O error, or a damaged file; nothing was stored. The message and the daemon's log
        /// say which. Try again after `Retry-After` once an operator fixed it. 503.
        public static let databaseUnavailable = Code(rawValue: "database_unavailable")
        /// The daemon is at `server.max_connections`, or the peer's uid at
        /// `server.max_connections_per_uid`: the connection is answered and closed at once. 503.
        public static let tooManyConnections = Code(rawValue: "too_many_connections")
        /// The daemon's storage engine does not do this; the message says what does
        /// (a PostgreSQL database is backed up with `pg_dump`). 501.
        public static let notSupported = Code(rawValue: "not_supported")
        /// An unexpected server-side failure; details are in the daemon's log. 500.
        public static let `internal` = Code(rawValue: "internal")
    }

    /// The stable code.
    public var code: Code
    /// A human-readable explanation.
    public var message: String
    /// The request field at fault, when there is one (`seconds`, `url`, `jobs[3].kind`).
    public var field: String?

    public init(_ code: Code, _ message: String, field: String? = nil) {
        self.code = code
        self.message = message
        self.field = field
    }

    public var description: String { "\(message) [\(code)]" }

    /// The HTTP status the server answers this error with.
    public var httpStatus: Int {
        switch code {
        case .invalidJSON, .unknownKind, .invalidSpec, .invalidURL, .invalidQuery: 400
        case .jobNotFound, .batchNotFound, .scheduleNotFound, .routeNotFound: 404
        case .unauthorized: 401
        case .forbidden: 403
        case .methodNotAllowed: 405
        case .invalidState, .scheduleExists, .notFinished, .noResult: 409
        case .queueFull: 429
        case .payloadTooLarge, .batchTooLarge: 413
        case .shuttingDown, .databaseBusy, .databaseUnavailable, .tooManyConnections: 503
        case .diskFull: 507
        case .notSupported: 501
        default: 500
        }
    }
}

/// The error body on the wire: `{"error":{...}}`.
public struct APIErrorResponse: Codable, Hashable, Sendable {
    public var error: APIError
    public init(error: APIError) { self.error = error }
}
