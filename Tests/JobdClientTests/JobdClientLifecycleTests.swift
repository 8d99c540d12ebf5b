import Foundation
import JobdClient
import JobdModel
import Synchronization
import Testing

/// The lifecycle routes of the client: retry, workers, pause/resume, prune, queue_full.
@Suite("JobdClient lifecycle")
struct JobdClientLifecycleTests {
    private static let decoder = JSONCoding.makeDecoder()

    @Test("retry posts to the job's retry route and decodes the record")
    func retry() async throws {
        try await FakeDaemon.with(answer: .json(200, Fixtures.record(id: 4, state: .queued))) { daemon in
            let record = try await JobdClient.withClient(socketPath: daemon.socketPath) { client in
                try await client.retry(4)
            }
            #expect(record.state == .queued)
            #expect(daemon.requests.map { "\($0.method) \($0.uri)" } == ["POST /v1/jobs/4/retry"])
        }
    }

    @Test("retry of an unfinished job throws invalid_state")
    func retryInvalidState() async throws {
        let answer = APIErrorResponse(error: APIError(.invalidState, "job 4 is running"))
        try await FakeDaemon.with(answer: .json(409, answer)) { daemon in
            let error = await #expect(throws: APIError.self) {
                try await JobdClient.withClient(socketPath: daemon.socketPath) { client in try await client.retry(4) }
            }
            #expect(error?.code == .invalidState)
        }
    }

    @Test("workers reads with GET and sets with PUT {\"workers\":N}; pause and resume post")
    func dispatch() async throws {
        let answer = DispatchResponse(workers: 2, paused: true)
        try await FakeDaemon.with(answer: .json(200, answer)) { daemon in
            let answers = try await JobdClient.withClient(socketPath: daemon.socketPath) { client in
                [
                    try await client.workers(), try await client.setWorkers(2), try await client.pause(),
                    try await client.resume(),
                ]
            }
            #expect(answers == Array(repeating: answer, count: 4))
            #expect(
                daemon.requests.map { "\($0.method) \($0.uri)" } == [
                    "GET /v1/workers", "PUT /v1/workers", "POST /v1/pause", "POST /v1/resume",
                ])
            #expect(try Self.decoder.decode(WorkersRequest.self, from: daemon.requests[1].body).workers == 2)
        }
    }

    @Test("prune sends older_than in seconds and returns the count")
    func prune() async throws {
        try await FakeDaemon.with(answer: .json(200, PruneResponse(pruned: 12))) { daemon in
            let pruned = try await JobdClient.withClient(socketPath: daemon.socketPath) { client in
                try await client.prune(olderThan: .seconds(86_400) + .milliseconds(500))
            }
            #expect(pruned == 12)
            let request = try #require(daemon.requests.first)
            #expect(request.method == "POST")
            #expect(request.uri == "/v1/prune")
            #expect(String(decoding: request.body, as: UTF8.self) == #"{"older_than":86400.5}"#)
        }
    }

    @Test("queue_full throws QueueFullError with the Retry-After delay")
    func queueFull() async throws {
        let answer = APIErrorResponse(error: APIError(.queueFull, "the queue holds 100 jobs, its limit"))
        try await FakeDaemon.with(answer: .json(429, answer, headers: ["Retry-After": "5"])) { daemon in
            let error = await #expect(throws: QueueFullError.self) {
                try await JobdClient.withClient(socketPath: daemon.socketPath) { client in
                    try await client.submit(JobSpec(.delay(DelaySpec(seconds: 0))))
                }
            }
            #expect(error?.code == .queueFull)
            #expect(error?.retryAfter == .seconds(5))
            #expect(error?.description == "the queue holds 100 jobs, its limit; retry after 5s [queue_full]")
        }
    }

    @Test("a batch refused with queue_full throws QueueFullError too; without Retry-After it is nil")
    func queueFullBatch() async throws {
        let answer = APIErrorResponse(error: APIError(.queueFull, "full"))
        try await FakeDaemon.with(answer: .json(429, answer)) { daemon in
            let error = await #expect(throws: QueueFullError.self) {
                try await JobdClient.withClient(socketPath: daemon.socketPath) { client in
                    try await client.submit(batch: [JobSpec(.delay(DelaySpec(seconds: 0)))])
                }
            }
            #expect(error?.retryAfter == nil)
            #expect(error?.description == "full [queue_full]")
        }
    }

    @Test(
        "Retry-After takes seconds or an HTTP date",
        arguments: [
            ("5", Duration.seconds(5)), (" 1.5 ", .milliseconds(1500)), ("-3", .zero),
            ("Wed, 25 Nov 2026 14:25:09 GMT", .seconds(5)), ("Wed, 25 Nov 2026 14:25:00 GMT", .zero),
        ])
    func retryAfter(value: String, expected: Duration) throws {
        let now = try #require(RFC3339.date(from: "2026-11-25T14:25:04Z"))
        #expect(QueueFullError.retryAfter(parsing: value, now: now) == expected)
    }

    @Test("a Retry-After that is neither form is nil", arguments: ["", "soon", "nan", "inf"])
    func badRetryAfter(value: String) {
        #expect(QueueFullError.retryAfter(parsing: value) == nil)
    }

    @Test("a batch of 10,000 specs goes out in one request")
    func largeBatch() async throws {
        let specs = (0..<10_000).map { JobSpec(.delay(DelaySpec(seconds: 0, value: .int($0)))) }
        let ids = (1...10_000).map { JobID(Int64($0)) }
        try await FakeDaemon.with(answer: .json(201, SubmitBatchResponse(ids: ids))) { daemon in
            let answer = try await JobdClient.withClient(socketPath: daemon.socketPath) { client in
                try await client.submit(batch: specs)
            }
            #expect(answer == ids)
            let body = try #require(daemon.requests.first?.body)
            #expect(try Self.decoder.decode(SubmitJobsRequest.self, from: body) == .batch(specs))
        }
    }
}
