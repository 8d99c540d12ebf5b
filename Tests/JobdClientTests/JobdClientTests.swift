import Foundation
import JobdClient
import JobdModel
import Testing

@Suite("JobdClient")
struct JobdClientTests {
    private static let decoder = JSONCoding.makeDecoder()

    @Test("a client pointed at a missing socket throws daemon_unreachable naming the path")
    func missingSocket() async throws {
        let path = "/tmp/jobdclient-missing-\(UUID().uuidString.prefix(8))/jobd.sock"
        let error = await #expect(throws: ClientError.self) {
            try await JobdClient.withClient(socketPath: path) { client in try await client.health() }
        }
        #expect(error?.code == .daemonUnreachable)
        #expect(error?.message.contains(path) == true)
        #expect(error?.message.contains("no such file") == true)
        #expect(error?.message.contains("jobd") == true)
    }

    @Test("with the shared HTTPClient a missing socket is still daemon_unreachable, after the deadline")
    func missingSocketSharedClient() async throws {
        let path = "/tmp/jobdclient-missing-\(UUID().uuidString.prefix(8))/jobd.sock"
        var client = JobdClient(socketPath: path)
        client.requestTimeout = .milliseconds(200)
        let error = await #expect(throws: ClientError.self) { try await client.health() }
        #expect(error?.code == .daemonUnreachable)
        #expect(error?.message.contains(path) == true)
    }

    @Test("the unreachable message says how to start jobd, for the system or the user unit")
    func unreachableHint() {
        let system = ClientError.unreachable(socketPath: "/run/jobd/jobd.sock", reason: "no such file")
        #expect(
            system.description
                == "cannot reach jobd at /run/jobd/jobd.sock (no such file): is it running? Start it with `jobd` or `systemctl start jobd` [daemon_unreachable]"
        )
        let user = ClientError.unreachable(socketPath: "/run/user/1000/jobd/jobd.sock", reason: "no such file")
        #expect(user.message.hasSuffix("`systemctl --user start jobd`"))
    }

    @Test("submit posts the spec as JSON and decodes the record")
    func submit() async throws {
        let spec = JobSpec(.delay(DelaySpec(seconds: 1.5, value: "Data 1")), maxAttempts: 2)
        try await FakeDaemon.with(answer: .json(201, Fixtures.record(id: 9, spec: spec, state: .queued))) { daemon in
            let record = try await JobdClient.withClient(socketPath: daemon.socketPath) { client in
                try await client.submit(spec)
            }
            #expect(record.id == 9)
            #expect(record.spec == spec)
            let request = try #require(daemon.requests.first)
            #expect(request.method == "POST")
            #expect(request.uri == "/v1/jobs")
            #expect(try Self.decoder.decode(JobSpec.self, from: request.body) == spec)
        }
    }

    @Test("a batch submit sends {\"jobs\":[...]} and returns the ids in order")
    func batch() async throws {
        let specs = [
            JobSpec(.delay(DelaySpec(seconds: 1))), JobSpec(.fetch(FetchSpec(url: "https://example.com/"))),
        ]
        try await FakeDaemon.with(answer: .json(201, SubmitBatchResponse(ids: [4, 5]))) { daemon in
            let ids = try await JobdClient.withClient(socketPath: daemon.socketPath) { client in
                try await client.submit(batch: specs)
            }
            #expect(ids == [4, 5])
            let body = try #require(daemon.requests.first?.body)
            #expect(try Self.decoder.decode(SubmitJobsRequest.self, from: body) == .batch(specs))
        }
    }

    @Test("an error answer throws the decoded APIError")
    func apiError() async throws {
        let answer = APIErrorResponse(error: APIError(.jobNotFound, "no job has id 3"))
        try await FakeDaemon.with(answer: .json(404, answer)) { daemon in
            let error = await #expect(throws: APIError.self) {
                try await JobdClient.withClient(socketPath: daemon.socketPath) { client in try await client.job(3) }
            }
            #expect(error == answer.error)
            #expect(daemon.requests.first?.uri == "/v1/jobs/3")
        }
    }

    @Test("an error answer that is not an error body becomes internal with the status")
    func rawError() async throws {
        try await FakeDaemon.with(answer: .raw(502, "bad gateway")) { daemon in
            let error = await #expect(throws: APIError.self) {
                try await JobdClient.withClient(socketPath: daemon.socketPath) { client in try await client.stats() }
            }
            #expect(error?.code == .internal)
            #expect(error?.message == "HTTP 502: bad gateway")
        }
    }

    @Test("a 2xx body that does not decode throws bad_response")
    func badResponse() async throws {
        try await FakeDaemon.with(answer: .raw(200, #"{"status":"ok"}"#)) { daemon in
            let error = await #expect(throws: ClientError.self) {
                try await JobdClient.withClient(socketPath: daemon.socketPath) { client in try await client.health() }
            }
            #expect(error?.code == .badResponse)
            #expect(error?.message.contains(daemon.socketPath) == true)
        }
    }

    @Test("list sends its filters as query parameters")
    func list() async throws {
        let page = JobListResponse(jobs: [JobSummary(Fixtures.record())], nextAfter: 7)
        try await FakeDaemon.with(answer: .json(200, page)) { daemon in
            let answers = try await JobdClient.withClient(socketPath: daemon.socketPath) { client in
                [
                    try await client.list(),
                    try await client.list(state: .failed, kind: .fetch, limit: 10, after: 99),
                ]
            }
            #expect(answers == [page, page])
            #expect(daemon.requests.map(\.uri) == ["/v1/jobs", "/v1/jobs?state=failed&kind=fetch&limit=10&after=99"])
        }
    }

    @Test("wait without a timeout long-polls in 60 s slices until the job is terminal")
    func waitUntilTerminal() async throws {
        let polls = Counter()
        let handler: @Sendable (FakeDaemon.Request) -> FakeDaemon.Response = { _ in
            .json(200, Fixtures.record(state: polls.next() < 2 ? .running : .succeeded))
        }
        try await FakeDaemon.with(handler: handler) { daemon in
            let record = try await JobdClient.withClient(socketPath: daemon.socketPath) { client in
                try await client.wait(7)
            }
            #expect(record.state == .succeeded)
            #expect(daemon.requests.map(\.uri) == Array(repeating: "/v1/jobs/7/wait?timeout=60", count: 3))
        }
    }

    @Test("wait with a zero timeout asks once and returns the job as it is")
    func waitZero() async throws {
        try await FakeDaemon.with(answer: .json(200, Fixtures.record(state: .queued))) { daemon in
            let record = try await JobdClient.withClient(socketPath: daemon.socketPath) { client in
                try await client.wait(7, timeout: .zero)
            }
            #expect(record.state == .queued)
            #expect(daemon.requests.map(\.uri) == ["/v1/jobs/7/wait?timeout=0"])
        }
    }

    @Test("cancel posts to the job's cancel route")
    func cancel() async throws {
        try await FakeDaemon.with(answer: .json(200, CancelResponse(id: 8, state: .running))) { daemon in
            let answer = try await JobdClient.withClient(socketPath: daemon.socketPath) { client in
                try await client.cancel(8)
            }
            #expect(answer == CancelResponse(id: 8, state: .running))
            #expect(daemon.requests.first?.method == "POST")
            #expect(daemon.requests.first?.uri == "/v1/jobs/8/cancel")
        }
    }
}
