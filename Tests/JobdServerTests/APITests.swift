import Foundation
import Hummingbird
import HummingbirdTesting
import JobdModel
import JobdRuntime
import JobdServer
import JobdStore
import JobdStoreSQLite
import Logging
import NIOCore
import Testing

/// Runs `body` against the v1 router in memory, on a real store in a temp directory.
///
/// The router has no socket: each request's peer comes from `peers`, by default the
/// `x-test-peer` header (`TestPeer`), else this process (an admin, as the daemon's own
/// uid is).
func withTestAPI(
    options: ServerOptions = ServerOptions(socketPath: "/unused", maxBodyBytes: 64 * 1024, maxBatch: 10),
    peers: PeerSource = TestPeer.fromHeader,
    events: EventBroadcaster = EventBroadcaster(),
    _ body: @escaping @Sendable (any TestClientProtocol, Dispatcher) async throws -> Void
) async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("jobd-api-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let store = try SQLiteJobStore(path: directory.appendingPathComponent("jobs.sqlite").path)
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    // No dispatcher loop runs: jobs stay queued, which is what these API tests want.
    let dispatcher = Dispatcher(
        store: store, executors: [.delay: DelayExecutor()], options: RuntimeOptions(), events: events, logger: logger)
    let router = APIServer.makeRouter(
        store: store, dispatcher: dispatcher, events: events, options: options, peers: peers,
        daemonUID: TestPeer.daemonUID)
    let app = Application(router: router, logger: logger)
    try await app.test(.router) { client in try await body(client, dispatcher) }
}

extension TestResponse {
    /// The decoded `{"error":{...}}` body.
    func apiError() throws -> APIError {
        try JSONCoding.makeDecoder().decode(APIErrorResponse.self, from: Data(body.readableBytesView)).error
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONCoding.makeDecoder().decode(type, from: Data(body.readableBytesView))
    }
}

func json(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

@Suite struct APITests {
    @Test("a single submit answers 201 with the stored record")
    func submitSingle() async throws {
        try await withTestAPI { client, _ in
            try await client.execute(
                uri: "/v1/jobs", method: .post, body: json(#"{"kind":"delay","seconds":1,"value":"Data 1"}"#)
            ) {
                response in
                #expect(response.status == .created)
                #expect(response.headers[.contentType] == "application/json")
                let record = try response.decode(JobRecord.self)
                #expect(record.state == .queued)
                #expect(record.spec.payload == .delay(DelaySpec(seconds: 1, value: "Data 1")))
            }
            try await client.execute(uri: "/v1/jobs/1", method: .get) { response in
                #expect(response.status == .ok)
                let decoded = try response.decode(JobRecord.self)
                #expect(decoded.id == JobID(1))
            }
        }
    }

    @Test("a batch submit answers 201 with the ids in order")
    func submitBatch() async throws {
        try await withTestAPI { client, _ in
            let body = #"{"jobs":[{"kind":"delay","seconds":1},{"kind":"fetch","url":"http://127.0.0.1:1/"}]}"#
            try await client.execute(uri: "/v1/jobs", method: .post, body: json(body)) { response in
                #expect(response.status == .created)
                let decoded = try response.decode(SubmitBatchResponse.self)
                #expect(decoded.ids == [1, 2])
            }
            try await client.execute(uri: "/v1/jobs?kind=fetch", method: .get) { response in
                let page = try response.decode(JobListResponse.self)
                #expect(page.jobs.map(\.id) == [2])
            }
        }
    }

    @Test(
        "bad requests get a 4xx with their own stable code",
        arguments: [
            ("POST", "/v1/jobs", "{bad", 400, "invalid_json"),
            ("POST", "/v1/jobs", #"{"kind":"teleport"}"#, 400, "unknown_kind"),
            ("POST", "/v1/jobs", #"{"kind":"delay","seconds":-1}"#, 400, "invalid_spec"),
            ("POST", "/v1/jobs", #"{"kind":"fetch","url":"ftp://example.org/"}"#, 400, "invalid_url"),
            (
                "POST", "/v1/jobs",
                #"{"jobs":[{"kind":"delay","seconds":0},{"kind":"delay","seconds":0},{"kind":"delay","seconds":0},{"kind":"delay","seconds":0},{"kind":"delay","seconds":0},{"kind":"delay","seconds":0},{"kind":"delay","seconds":0},{"kind":"delay","seconds":0},{"kind":"delay","seconds":0},{"kind":"delay","seconds":0},{"kind":"delay","seconds":0}]}"#,
                413, "batch_too_large"
            ),
            ("GET", "/v1/jobs/12345", "", 404, "job_not_found"),
            ("GET", "/v1/jobs/abc", "", 404, "job_not_found"),
            ("POST", "/v1/jobs/12345/cancel", "", 404, "job_not_found"),
            ("GET", "/v1/jobs?state=sleeping", "", 400, "invalid_query"),
            ("GET", "/v1/jobs?limit=0", "", 400, "invalid_query"),
            ("GET", "/v1/jobs/1/wait?timeout=soon", "", 400, "invalid_query"),
            ("GET", "/v1/nothing", "", 404, "route_not_found"),
            ("TRACE", "/v1/jobs", "", 405, "method_not_allowed"),
            ("DELETE", "/v1/jobs/12", "", 405, "method_not_allowed"),
            ("GET", "/v1/pause", "", 405, "method_not_allowed"),
        ])
    func badRequests(method: String, path: String, body: String, status: Int, code: String) async throws {
        try await withTestAPI { client, _ in
            try await client.execute(uri: path, method: .init(method)!, body: body.isEmpty ? nil : json(body)) {
                response in
                #expect(response.status.code == status)
                let error = try response.apiError()
                #expect(error.code.rawValue == code)
                #expect(!error.message.isEmpty)
            }
            // The daemon keeps serving.
            try await client.execute(uri: "/v1/health", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test("a known path with a method it does not take: 405 with Allow listing the methods it takes")
    func methodNotAllowed() async throws {
        try await withTestAPI { client, _ in
            for (method, path, allow) in [
                ("TRACE", "/v1/jobs", "GET, POST"), ("PUT", "/v1/jobs/7", "GET"),
                ("DELETE", "/v1/workers", "GET, PUT"), ("GET", "/v1/schedules/nightly/pause", "POST"),
                ("POST", "/v1/schedules/nightly", "GET, DELETE"),
            ] {
                try await client.execute(uri: path, method: .init(method)!) { response in
                    #expect(response.status == .methodNotAllowed, "\(method) \(path)")
                    #expect(response.headers[.allow] == allow, "\(method) \(path)")
                    let error = try response.apiError()
                    #expect(error.code == .methodNotAllowed)
                    #expect(error.message == "\(method) is not allowed on \(path); it takes \(allow)")
                }
            }
        }
    }

    @Test("a body over the limit gets 413 payload_too_large")
    func bodyTooLarge() async throws {
        try await withTestAPI { client, _ in
            let big = #"{"kind":"delay","seconds":0,"value":""# + String(repeating: "x", count: 70_000) + #""}"#
            try await client.execute(uri: "/v1/jobs", method: .post, body: json(big)) { response in
                #expect(response.status.code == 413)
                let decoded = try response.apiError()
                #expect(decoded.code == .payloadTooLarge)
            }
        }
    }

    @Test("a field error names the field, also inside a batch")
    func fieldNamed() async throws {
        try await withTestAPI { client, _ in
            let body = #"{"jobs":[{"kind":"delay","seconds":0},{"kind":"delay"}]}"#
            try await client.execute(uri: "/v1/jobs", method: .post, body: json(body)) { response in
                #expect(response.status == .badRequest)
                let error = try response.apiError()
                #expect(error.code == .invalidSpec)
                #expect(error.field == "jobs[1].seconds")
            }
            // Nothing of the bad batch was stored.
            try await client.execute(uri: "/v1/jobs", method: .get) { response in
                let decoded = try response.decode(JobListResponse.self)
                #expect(decoded.jobs.isEmpty)
            }
        }
    }

    @Test("cancel answers cancelled for a queued job and 409 invalid_state the second time")
    func cancel() async throws {
        try await withTestAPI { client, _ in
            try await client.execute(uri: "/v1/jobs", method: .post, body: json(#"{"kind":"delay","seconds":5}"#)) {
                _ in
            }
            try await client.execute(uri: "/v1/jobs/1/cancel", method: .post) { response in
                #expect(response.status == .ok)
                let decoded = try response.decode(CancelResponse.self)
                #expect(decoded == CancelResponse(id: 1, state: .cancelled))
            }
            try await client.execute(uri: "/v1/jobs/1/cancel", method: .post) { response in
                #expect(response.status == .conflict)
                let decoded = try response.apiError()
                #expect(decoded.code == .invalidState)
            }
            // wait on a terminal job answers at once.
            try await client.execute(uri: "/v1/jobs/1/wait?timeout=60", method: .get) { response in
                let decoded = try response.decode(JobRecord.self)
                #expect(decoded.state == .cancelled)
            }
        }
    }

    @Test("wait with a timeout answers the record as it is when the job is not done")
    func waitTimeout() async throws {
        try await withTestAPI { client, _ in
            try await client.execute(uri: "/v1/jobs", method: .post, body: json(#"{"kind":"delay","seconds":5}"#)) {
                _ in
            }
            try await client.execute(uri: "/v1/jobs/1/wait?timeout=0.05", method: .get) { response in
                #expect(response.status == .ok)
                let decoded = try response.decode(JobRecord.self)
                #expect(decoded.state == .queued)
            }
        }
    }

    @Test("stats and health answer with their documented fields")
    func statsHealth() async throws {
        try await withTestAPI { client, _ in
            try await client.execute(uri: "/v1/jobs", method: .post, body: json(#"{"kind":"delay","seconds":5}"#)) {
                _ in
            }
            try await client.execute(uri: "/v1/stats", method: .get) { response in
                let stats = try response.decode(StatsResponse.self)
                #expect(stats.queued == 1)
                #expect(stats.submitted == 1)
                #expect(stats.workers == RuntimeOptions().workers)
            }
            try await client.execute(uri: "/v1/health", method: .get) { response in
                let health = try response.decode(HealthResponse.self)
                #expect(health.status == "ok")
                #expect(health.version == jobdVersion)
            }
        }
    }

    @Test("during a shutdown a submit gets 503 shutting_down with Retry-After")
    func shuttingDown() async throws {
        try await withTestAPI { client, dispatcher in
            dispatcher.beginShutdown()
            try await client.execute(uri: "/v1/jobs", method: .post, body: json(#"{"kind":"delay","seconds":0}"#)) {
                response in
                #expect(response.status == .serviceUnavailable)
                let decoded = try response.apiError()
                #expect(decoded.code == .shuttingDown)
                #expect(response.headers[.retryAfter] != nil)
            }
        }
    }
}
