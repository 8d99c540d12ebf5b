import Foundation
import HTTPTypes
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

/// `GET /v1/jobs/{id}/result` and the list's summaries, through the router, on jobs the
/// test finishes in the store itself (no executor runs).
@Suite struct ResultRouteTests {
    /// Runs `body` against the router and its store; jobs are finished by the test.
    static func withResultAPI(
        _ body: @escaping @Sendable (any TestClientProtocol, SQLiteJobStore) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "jobd-result-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteJobStore(path: directory.appendingPathComponent("jobs.sqlite").path)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let events = EventBroadcaster()
        let dispatcher = Dispatcher(
            store: store, executors: [.delay: DelayExecutor()], options: RuntimeOptions(), events: events,
            logger: logger)
        let router = APIServer.makeRouter(
            store: store, dispatcher: dispatcher, events: events,
            options: ServerOptions(socketPath: "/unused", maxBodyBytes: 64 * 1024, maxBatch: 10),
            peers: TestPeer.fromHeader, daemonUID: TestPeer.daemonUID)
        let app = Application(router: router, logger: logger)
        try await app.test(.router) { client in try await body(client, store) }
    }

    /// Inserts one job per end (a fetch job for a fetch result, else a delay) as Alice's,
    /// and ends each; nil leaves it queued. Returns the ids in order.
    static func finished(_ ends: [AttemptEnd?], in store: SQLiteJobStore) async throws -> [JobID] {
        var ids: [JobID] = []
        for end in ends {
            var payload = JobPayload.delay(DelaySpec(seconds: 0))
            switch end {
            case .succeeded(.fetch), .failed(_, .fetch, _): payload = .fetch(FetchSpec(url: "http://127.0.0.1/"))
            default: break
            }
            let job = NewJob(
                spec: JobSpec(payload, maxAttempts: 1), priority: 0, runAt: Date(), maxAttempts: 1, timeout: nil,
                onInterrupt: .retry, submitterUID: TestPeer.alice.uid)
            let id = try #require(try await store.insert([job], now: Date()).first?.id)
            ids.append(id)
            guard let end else { continue }
            let claim = try #require(try await store.claim(limit: 1, now: Date()).first)
            #expect(claim.id == id)
            #expect(try await store.finish(AttemptFinish(attempt: claim.attempt, end: end), now: Date()))
        }
        return ids
    }

    static func get(_ client: any TestClientProtocol, _ uri: String, as peer: PeerCredentials = TestPeer.alice)
        async throws -> TestResponse
    {
        try await client.executeRequest(uri: uri, method: .get, headers: TestPeer.headers(peer), body: nil)
    }

    static let page: String = {
        let line = #"<p>"quoted", \escaped\ and ünïcode</p>"# + "\n"
        return String(repeating: line, count: 10_000)
    }()

    @Test("a fetch's result is its body alone, byte for byte, with its Content-Type, length, kind and state")
    func fetchBody() async throws {
        try await Self.withResultAPI { client, store in
            let fetch = FetchResult(
                status: 200, headers: ["content-type": "text/html; charset=utf-8"], body: Self.page,
                bodyEncoding: .utf8, size: Self.page.utf8.count, elapsedMs: 1, finalURL: "http://127.0.0.1/")
            let ids = try await Self.finished([.succeeded(.fetch(fetch))], in: store)
            let response = try await Self.get(client, "/v1/jobs/\(ids[0])/result")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/html; charset=utf-8")
            #expect(response.headers[.contentLength] == String(Self.page.utf8.count))
            #expect(response.headers[HTTPField.Name(ResultHeaders.kind)!] == "fetch")
            #expect(response.headers[HTTPField.Name(ResultHeaders.state)!] == "succeeded")
            #expect(Array(response.body.readableBytesView) == Array(Self.page.utf8))

            // The list describes it and carries no body.
            let list = try await Self.get(client, "/v1/jobs")
            #expect(list.body.readableBytes < 2_000, "\(list.body.readableBytes) bytes")
            let page = try JSONCoding.makeDecoder().decode(
                JobListResponse.self, from: Data(list.body.readableBytesView))
            #expect(
                page.jobs.first?.result
                    == ResultSummary(bytes: Self.page.utf8.count, contentType: "text/html; charset=utf-8", status: 200))
        }
    }

    @Test("a base64 body is answered decoded; no Content-Type header means application/octet-stream")
    func binaryBody() async throws {
        try await Self.withResultAPI { client, store in
            let bytes = (0..<200_001).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            let fetch = FetchResult(
                status: 200, headers: [:], body: Data(bytes).base64EncodedString(), bodyEncoding: .base64,
                size: bytes.count, elapsedMs: 1, finalURL: "http://127.0.0.1/")
            let ids = try await Self.finished([.succeeded(.fetch(fetch))], in: store)
            let response = try await Self.get(client, "/v1/jobs/\(ids[0])/result")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/octet-stream")
            #expect(response.headers[.contentLength] == String(bytes.count))
            #expect(Array(response.body.readableBytesView) == bytes)
        }
    }

    @Test("a delay's result is its value as JSON")
    func delayValue() async throws {
        try await Self.withResultAPI { client, store in
            let ids = try await Self.finished(
                [.succeeded(.delay(DelayResult(value: .object(["a": .array([1, 2]), "b": "x/y"]))))], in: store)
            let response = try await Self.get(client, "/v1/jobs/\(ids[0])/result")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            #expect(response.headers[HTTPField.Name(ResultHeaders.kind)!] == "delay")
            #expect(String(buffer: response.body) == #"{"a":[1,2],"b":"x/y"}"#)
        }
    }

    @Test("an http_status failure answers its response, state failed, with the error in headers")
    func httpStatusFailure() async throws {
        try await Self.withResultAPI { client, store in
            let fetch = FetchResult(
                status: 503, headers: ["content-type": "text/plain"], body: "busy", bodyEncoding: .utf8, size: 4,
                elapsedMs: 1, finalURL: "http://127.0.0.1/")
            let error = JobError(.httpStatus, "the server answered 503 Service Unavailable\n", httpStatus: 503)
            let ids = try await Self.finished([.failed(error, result: .fetch(fetch), retryAt: nil)], in: store)
            let response = try await Self.get(client, "/v1/jobs/\(ids[0])/result")
            #expect(response.status == .ok)
            #expect(String(buffer: response.body) == "busy")
            #expect(response.headers[HTTPField.Name(ResultHeaders.state)!] == "failed")
            #expect(response.headers[HTTPField.Name(ResultHeaders.errorCode)!] == "http_status")
            #expect(
                response.headers[HTTPField.Name(ResultHeaders.errorMessage)!]
                    == "the server answered 503 Service Unavailable?")
        }
    }

    @Test("a job without a result answers 409: not_finished while it has not ended, no_result after")
    func noResult() async throws {
        try await Self.withResultAPI { client, store in
            // The failed job first: a queued one would be claimed before it.
            let ids = try await Self.finished(
                [.failed(JobError(.jobFailed, "boom"), result: nil, retryAt: nil), nil], in: store)
            let queued = try await Self.get(client, "/v1/jobs/\(ids[1])/result")
            #expect(queued.status == .conflict)
            #expect(try queued.apiError().code == .notFinished)
            let failed = try await Self.get(client, "/v1/jobs/\(ids[0])/result")
            #expect(failed.status == .conflict)
            let error = try failed.apiError()
            #expect(error.code == .noResult)
            #expect(error.message.contains("boom [job_failed]"), "\(error.message)")
            let cancelled = try await Self.finished([nil], in: store)
            _ = try await store.cancel(cancelled[0], now: Date())
            #expect(try await Self.get(client, "/v1/jobs/\(cancelled[0])/result").apiError().code == .noResult)
        }
    }

    @Test("another user's job's result is 404 job_not_found, as a missing job's; root sees it")
    func access() async throws {
        try await Self.withResultAPI { client, store in
            let ids = try await Self.finished([.succeeded(.delay(DelayResult(value: 1)))], in: store)
            let hidden = try await Self.get(client, "/v1/jobs/\(ids[0])/result", as: TestPeer.bob)
            #expect(hidden.status == .notFound)
            #expect(try hidden.apiError().code == .jobNotFound)
            #expect(try hidden.apiError() == APIError(.jobNotFound, "no job has id \(ids[0])"))
            #expect(try await Self.get(client, "/v1/jobs/\(ids[0])/result", as: TestPeer.root).status == .ok)
        }
    }
}
