import AsyncHTTPClient
import Foundation
import JobdModel
import NIOCore
import NIOHTTP1

/// A typed async client for jobd's v1 API over its Unix socket.
///
/// Each method sends one HTTP/1.1 request (or, for `wait`, a series of long polls) and
/// decodes the JSON answer with `JSONCoding`. The client is a small value: copy it
/// freely; connections are pooled by the `HTTPClient` it wraps.
///
/// Errors are of two kinds:
/// - `APIError`: jobd answered with a 4xx/5xx status (`job_not_found`,
///   `invalid_spec`, `invalid_state`, …). An error body that does not decode becomes
///   `APIError(.internal, "HTTP <status>: <body prefix>")`. The one exception is
///   `queue_full` (429), thrown as `QueueFullError` so that its `Retry-After` survives.
/// - `ClientError`: jobd could not be reached (`daemon_unreachable`, the message names
///   the socket), did not answer in time (`timeout`), or sent a 2xx body that does not
///   decode (`bad_response`).
///
/// - Important: `HTTPClient.shared` retries failed connection attempts until the
///   request's deadline, so with it a missing socket is reported only after the
///   deadline. Use `withClient(socketPath:_:)` (or an `HTTPClient` built from
///   `httpClientConfiguration`) to fail at once.
public struct JobdClient: Sendable {
    /// The socket path requests go to.
    public let socketPath: String
    /// The HTTP client that carries the requests.
    public let httpClient: HTTPClient
    /// The deadline of every request except `wait`'s long polls. Default 30 s.
    public var requestTimeout: Duration = .seconds(30)

    /// The most bytes of one response body the client reads (64 MiB).
    public static let maxResponseBytes = 64 * 1024 * 1024
    /// How long one long poll of `wait` asks the server to hold the request (60 s).
    public static let longPollInterval: Duration = .seconds(60)
    /// How much longer than its long-poll timeout a `wait` request may take before the
    /// client gives up on it (10 s).
    public static let longPollGrace: Duration = .seconds(10)

    /// Makes a client for the daemon listening on `socketPath`.
    ///
    /// Nothing is sent until a method is called.
    ///
    /// - Parameters:
    ///   - socketPath: The daemon's socket, such as `DefaultPaths(...).socket`.
    ///   - httpClient: The client that carries the requests. See the type's note on
    ///     `HTTPClient.shared` and connection retries.
    public init(socketPath: String, httpClient: HTTPClient = .shared) {
        self.socketPath = socketPath
        self.httpClient = httpClient
    }

    /// The `HTTPClient` settings that suit a local daemon.
    ///
    /// A failed connection is reported at once instead of being retried until the
    /// deadline, connecting may take at most 5 s, reads have no idle timeout (long
    /// polls are bounded by the request deadline instead), redirects are not
    /// followed, and up to `maxConcurrentReads` connections (plus one for an event
    /// stream) may be open at once, so that `waitForAll`'s reads do not queue.
    public static var httpClientConfiguration: HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(5), read: nil),
            decompression: .disabled
        )
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = maxConcurrentReads + 1
        return configuration
    }

    /// Runs `body` with a client backed by its own `HTTPClient`, shut down on return.
    ///
    /// The `HTTPClient` uses `httpClientConfiguration`, so an unreachable daemon is
    /// reported at once. This is what `jobctl` uses.
    ///
    /// - Parameters:
    ///   - socketPath: The daemon's socket.
    ///   - isolation: The actor `body` runs on; the caller's by default.
    ///   - body: The work to do with the client.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws; otherwise an error from shutting the `HTTPClient` down.
    public static func withClient<Result>(
        socketPath: String,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (JobdClient) async throws -> Result
    ) async throws -> Result {
        let configuration = httpClientConfiguration
        return try await HTTPClient.withHTTPClient(configuration: configuration, isolation: isolation) { httpClient in
            try await body(JobdClient(socketPath: socketPath, httpClient: httpClient))
        }
    }

    /// Submits one job.
    ///
    /// The answer arrives after the job is committed. A spec with a `key` that was
    /// already used returns the first job with that key.
    ///
    /// - Parameter spec: The job to run.
    /// - Returns: The stored job, with its new id.
    /// - Throws: `APIError` with `invalid_spec`, `invalid_url`, `unknown_kind`,
    ///   `payload_too_large`, `shutting_down`, `disk_full`; `QueueFullError` when the
    ///   backlog is full (with its `Retry-After`); or `ClientError`.
    public func submit(_ spec: JobSpec) async throws -> JobRecord {
        try await send(.POST, APIRoutes.jobs, body: encode(SubmitJobsRequest.single(spec)), as: JobRecord.self)
    }

    /// Submits several jobs in one request, stored in one transaction.
    ///
    /// Either every job is stored or none is.
    ///
    /// - Parameter specs: The jobs to run, at least one.
    /// - Returns: The new jobs' ids, in the order of `specs`.
    /// - Throws: `APIError` with `invalid_spec` (the field names the job, as in
    ///   `jobs[3].seconds`), `invalid_url`, `unknown_kind`, `batch_too_large`,
    ///   `payload_too_large`, `shutting_down`, `disk_full`; `QueueFullError` when the
    ///   backlog has no room for the whole batch (nothing is stored); or `ClientError`.
    public func submit(batch specs: [JobSpec]) async throws -> [JobID] {
        let response = try await send(
            .POST, APIRoutes.jobs, body: encode(SubmitJobsRequest.batch(specs)), as: SubmitBatchResponse.self)
        guard response.ids.count == specs.count else {
            throw ClientError(
                .badResponse,
                "jobd at \(socketPath) answered a batch of \(specs.count) jobs with \(response.ids.count) ids")
        }
        return response.ids
    }

    /// Fetches one job with its attempts.
    ///
    /// - Parameter id: The job's id.
    /// - Returns: The full record, `attempts` included.
    /// - Throws: `APIError` with `job_not_found`, or `ClientError`.
    public func job(_ id: JobID) async throws -> JobRecord {
        try await send(.GET, APIRoutes.job(id), as: JobRecord.self)
    }

    /// Lists jobs, newest first, one page at a time.
    ///
    /// - Parameters:
    ///   - state: Only jobs in this state.
    ///   - kind: Only jobs of this kind.
    ///   - tag: Only jobs with this tag.
    ///   - limit: At most this many jobs; nil means the server's default page size.
    ///   - after: The `nextAfter` cursor of the previous page.
    /// - Returns: One page; its `nextAfter` is nil on the last page.
    /// - Throws: `APIError` with `invalid_query`, or `ClientError`.
    public func list(
        state: JobState? = nil, kind: JobKind? = nil, tag: String? = nil, limit: Int? = nil, after: JobID? = nil
    ) async throws -> JobListResponse {
        var query: [String] = []
        if let state { query.append("state=\(state.rawValue)") }
        if let kind { query.append("kind=\(kind.rawValue)") }
        if let tag {
            // A valid tag needs no escaping; anything else goes escaped, for the server to refuse.
            let unreserved = CharacterSet(charactersIn: "-._~:").union(.init(charactersIn: "a"..."z"))
                .union(.init(charactersIn: "A"..."Z")).union(.init(charactersIn: "0"..."9"))
            query.append("tag=\(tag.addingPercentEncoding(withAllowedCharacters: unreserved) ?? tag)")
        }
        if let limit { query.append("limit=\(limit)") }
        if let after { query.append("after=\(after)") }
        let uri = query.isEmpty ? APIRoutes.jobs : APIRoutes.jobs + "?" + query.joined(separator: "&")
        return try await send(.GET, uri, as: JobListResponse.self)
    }

    /// Waits until a job is terminal or `timeout` passes.
    ///
    /// Long-polls `GET /v1/jobs/{id}/wait` in slices of at most `longPollInterval`, so
    /// any timeout works whatever the server's cap. A `timeout` of zero asks once
    /// without waiting.
    ///
    /// - Parameters:
    ///   - id: The job's id.
    ///   - timeout: The longest time to wait; nil waits until the job is terminal.
    /// - Returns: The record as it is when the job became terminal or the timeout
    ///   passed: check `state.isTerminal`.
    /// - Throws: `APIError` with `job_not_found`, `ClientError`, or
    ///   `CancellationError` when the task is cancelled.
    public func wait(_ id: JobID, timeout: Duration? = nil) async throws -> JobRecord {
        let clock = ContinuousClock()
        let end = timeout.map { clock.now.advanced(by: max($0, .zero)) }
        while true {
            var slice = Self.longPollInterval
            if let end {
                slice = min(slice, max(end - clock.now, .zero))
            }
            let uri = APIRoutes.wait(id) + "?timeout=" + slice.timeoutParameter
            let record = try await send(.GET, uri, deadline: slice + Self.longPollGrace, as: JobRecord.self)
            if record.state.isTerminal {
                return record
            }
            if let end, clock.now >= end {
                return record
            }
            try Task.checkCancellation()
        }
    }

    /// Cancels a queued or running job.
    ///
    /// A queued job is cancelled at once; a running one is asked to stop and becomes
    /// `cancelled` when its attempt has stopped.
    ///
    /// - Parameter id: The job's id.
    /// - Returns: The id and `cancelled` (it was queued) or `running` (stopping).
    /// - Throws: `APIError` with `job_not_found` or `invalid_state` (already terminal),
    ///   or `ClientError`.
    public func cancel(_ id: JobID) async throws -> CancelResponse {
        try await send(.POST, APIRoutes.cancel(id), as: CancelResponse.self)
    }

    /// Re-queues a finished job as a new attempt, with its attempt budget renewed.
    ///
    /// - Parameter id: The job's id.
    /// - Returns: The job as stored after the retry: `queued`, or already `running`
    ///   when the dispatcher claimed it before the answer was written.
    /// - Throws: `APIError` with `job_not_found`, `invalid_state` (the job is queued or
    ///   running), `forbidden`, or `ClientError`.
    public func retry(_ id: JobID) async throws -> JobRecord {
        try await send(.POST, APIRoutes.retry(id), as: JobRecord.self)
    }

    /// Reads the global worker limit and whether dispatching is paused.
    ///
    /// - Returns: The worker limit and the paused flag.
    /// - Throws: `APIError`, or `ClientError`.
    public func workers() async throws -> DispatchResponse {
        try await send(.GET, APIRoutes.workers, as: DispatchResponse.self)
    }

    /// Changes the global worker limit while jobd runs.
    ///
    /// Raising it starts queued jobs at once; lowering it lets running jobs finish and
    /// starts new ones only below the new limit.
    ///
    /// - Parameter workers: The new limit, 1 or more.
    /// - Returns: The limit now in force and the paused flag.
    /// - Throws: `APIError` with `invalid_spec` (field `workers`) for a limit below 1,
    ///   `forbidden`, or `ClientError`.
    public func setWorkers(_ workers: Int) async throws -> DispatchResponse {
        try await send(
            .PUT, APIRoutes.workers, body: encode(WorkersRequest(workers: workers)), as: DispatchResponse.self)
    }

    /// Stops dispatching: no queued job starts until `resume()`; running jobs go on.
    ///
    /// Pausing a paused daemon is not an error.
    ///
    /// - Returns: The worker limit and `paused: true`.
    /// - Throws: `APIError` (`forbidden`), or `ClientError`.
    public func pause() async throws -> DispatchResponse {
        try await send(.POST, APIRoutes.pause, as: DispatchResponse.self)
    }

    /// Starts dispatching again after `pause()`.
    ///
    /// Resuming a daemon that is not paused is not an error.
    ///
    /// - Returns: The worker limit and `paused: false`.
    /// - Throws: `APIError` (`forbidden`), or `ClientError`.
    public func resume() async throws -> DispatchResponse {
        try await send(.POST, APIRoutes.resume, as: DispatchResponse.self)
    }

    /// Deletes finished jobs (with their attempts) that finished longer ago than `age`.
    ///
    /// Queued and running jobs are never deleted.
    ///
    /// - Parameter age: The minimum age of a finished job to delete; `.zero` deletes
    ///   every finished job.
    /// - Returns: How many jobs were deleted.
    /// - Throws: `APIError` (`invalid_spec`, `forbidden`), or `ClientError`.
    public func prune(olderThan age: Duration) async throws -> Int {
        let request = PruneRequest(olderThan: age.secondsValue)
        return try await send(.POST, APIRoutes.prune, body: encode(request), as: PruneResponse.self).pruned
    }

    /// Fetches the daemon's counters.
    ///
    /// - Returns: Jobs per state, the worker limit and counts since the daemon started.
    /// - Throws: `APIError`, or `ClientError`.
    public func stats() async throws -> StatsResponse {
        try await send(.GET, APIRoutes.stats, as: StatsResponse.self)
    }

    /// Checks that the daemon is alive.
    ///
    /// - Returns: Its status (`ok` or `stopping`), version, pid, uptime and database.
    /// - Throws: `APIError`, or `ClientError` (`daemon_unreachable` when it is not running).
    public func health() async throws -> HealthResponse {
        try await send(.GET, APIRoutes.health, as: HealthResponse.self)
    }

    /// The nodes of the daemon's cluster (none on SQLite).
    ///
    /// - Throws: `APIError`, or `ClientError`.
    public func nodes() async throws -> NodeListResponse {
        try await send(.GET, APIRoutes.nodes, as: NodeListResponse.self)
    }

    // MARK: - Transport

    func encode(_ body: some Encodable) throws -> Data {
        try JSONCoding.makeEncoder().encode(body)
    }

    /// Sends one request and decodes a 2xx answer as `Response`.
    func send<Response: Decodable>(
        _ method: HTTPMethod,
        _ uri: String,
        body: Data? = nil,
        deadline: Duration? = nil,
        as type: Response.Type
    ) async throws -> Response {
        let deadline = deadline ?? requestTimeout
        let status: HTTPResponseStatus
        let headers: HTTPHeaders
        let data: Data
        do {
            let response = try await start(method, uri, body: body, deadline: deadline)
            status = response.status
            headers = response.headers
            let buffer = try await response.body.collect(upTo: Self.maxResponseBytes)
            data = Data(buffer.readableBytesView)
        } catch {
            throw ClientError.wrapping(error, socketPath: socketPath, deadline: deadline)
        }
        guard (200..<300).contains(status.code) else {
            throw Self.error(status: status, headers: headers, body: data)
        }
        do {
            return try JSONCoding.makeDecoder().decode(Response.self, from: data)
        } catch {
            throw ClientError(
                .badResponse,
                "jobd at \(socketPath) sent a \(Response.self) that could not be decoded: \(Self.describe(error))")
        }
    }

    /// Sends one request and returns as soon as the answer's head has arrived; the
    /// body is left to the caller to read.
    ///
    /// `deadline` bounds the wait for the head only. Errors are the transport's own:
    /// the caller wraps them with `ClientError.wrapping`.
    func start(
        _ method: HTTPMethod,
        _ uri: String,
        body: Data? = nil,
        accept: String = "application/json",
        deadline: Duration
    ) async throws -> HTTPClientResponse {
        guard let url = URL(httpURLWithSocketPath: socketPath, uri: uri) else {
            throw ClientError.unreachable(socketPath: socketPath, reason: "the path cannot be used as a socket address")
        }
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = method
        request.headers.add(name: "Accept", value: accept)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        return try await httpClient.execute(request, timeout: TimeAmount(deadline))
    }

    /// The error to throw for a non-2xx answer.
    ///
    /// An error body becomes its `APIError`, except `queue_full`, which becomes a
    /// `QueueFullError` carrying the `Retry-After` header; anything else becomes
    /// `APIError(.internal, "HTTP <status>: <body prefix>")`.
    static func error(status: HTTPResponseStatus, headers: HTTPHeaders, body: Data) -> any Error {
        guard let answer = try? JSONCoding.makeDecoder().decode(APIErrorResponse.self, from: body) else {
            let prefix = String(decoding: body.prefix(200), as: UTF8.self)
            return APIError(.internal, "HTTP \(status.code): \(prefix)")
        }
        if answer.error.code == .queueFull {
            let retryAfter = headers.first(name: "Retry-After").flatMap { QueueFullError.retryAfter(parsing: $0) }
            return QueueFullError(error: answer.error, retryAfter: retryAfter)
        }
        return answer.error
    }

    /// A one-line account of a decoding failure: the field path and the reason.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return String(describing: error) }
        func path(_ codingPath: [any CodingKey]) -> String {
            let text = codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return text.isEmpty ? "the body" : String(text.drop { $0 == "." })
        }
        switch error {
        case .dataCorrupted(let context): return "\(path(context.codingPath)): \(context.debugDescription)"
        case .keyNotFound(let key, let context): return "\(path(context.codingPath + [key])) is missing"
        case .typeMismatch(let type, let context): return "\(path(context.codingPath)) is not a \(type)"
        case .valueNotFound(let type, let context): return "\(path(context.codingPath)) is null, expected \(type)"
        @unknown default: return String(describing: error)
        }
    }
}
