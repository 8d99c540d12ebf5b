import Foundation
import JobdClient
import JobdModel
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `events()` over a real HTTP connection, and `waitForAll` driven by it.
@Suite("JobdClient events")
struct JobdClientEventsTests {
    private static let time = Date(timeIntervalSince1970: 1_795_000_000)

    /// One SSE frame for an event, as jobd writes it.
    static func frame(_ event: JobEvent) -> String {
        // Test fixtures are plain model values: encoding them cannot fail.
        let data = String(decoding: try! JSONCoding.makeEncoder().encode(event), as: UTF8.self)
        return "id: \(event.id)\nevent: \(event.type.rawValue)\ndata: \(data)\n\n"
    }

    static func event(_ id: UInt64, _ type: JobEventType, job: JobID?, state: JobState? = nil) -> JobEvent {
        JobEvent(id: id, type: type, jobID: job, state: state, attempt: job == nil ? nil : 1, time: time)
    }

    /// Sends keep-alives until the client goes away (or 10 s pass).
    static func keepOpen(_ send: (Data) -> Bool) {
        let end = Date().addingTimeInterval(10)
        while Date() < end, send(Data(": ping\n".utf8)) {
            usleep(20_000)
        }
    }

    /// Blocks the fake daemon's connection thread until `condition` holds (5 s at most).
    static func await(_ condition: () -> Bool) {
        let end = Date().addingTimeInterval(5)
        while !condition(), Date() < end {
            usleep(2000)
        }
    }

    @Test("events arrive whole from a stream written in odd pieces; comments and unknown types are skipped")
    func events() async throws {
        let started = Self.event(1, .started, job: 5, state: .running)
        let succeeded = Self.event(2, .succeeded, job: 5, state: .succeeded)
        let text = ": hello\r\n\r\n" + Self.frame(started) + "event: future_thing\ndata: {}\n\n" + Self.frame(succeeded)
        let bytes = Array(text.utf8)
        let stream = FakeDaemon.Response.eventStream { send in
            var start = 0
            for size in [1, 2, 30, 7, 100, 3] where start < bytes.count {
                let end = min(start + size, bytes.count)
                guard send(Data(bytes[start..<end])) else { return }
                start = end
                usleep(1000)
            }
            _ = send(Data(bytes[start...]))
        }
        try await FakeDaemon.with(answer: stream) { daemon in
            let received = try await JobdClient.withClient(socketPath: daemon.socketPath) { client in
                var received: [JobEvent] = []
                for try await event in try await client.events() {
                    received.append(event)
                }
                return received
            }
            #expect(received == [started, succeeded])
            #expect(daemon.requests.map(\.uri) == ["/v1/events"])
        }
    }

    @Test("the sequence ends right after lagged")
    func lagged() async throws {
        let lagged = Self.event(3, .lagged, job: nil)
        let stream = FakeDaemon.Response.eventStream { send in
            guard send(Data((Self.frame(Self.event(2, .started, job: 1)) + Self.frame(lagged)).utf8)) else { return }
            Self.keepOpen(send)
        }
        try await FakeDaemon.with(answer: stream) { daemon in
            let types = try await JobdClient.withClient(socketPath: daemon.socketPath) { client in
                var types: [JobEventType] = []
                for try await event in try await client.events() {
                    types.append(event.type)
                }
                return types
            }
            #expect(types == [.started, .lagged])
        }
    }

    @Test("an error answer to the subscription throws its APIError")
    func subscriptionRefused() async throws {
        let answer = APIErrorResponse(error: APIError(.routeNotFound, "no route GET /v1/events"))
        try await FakeDaemon.with(answer: .json(404, answer)) { daemon in
            let error = await #expect(throws: APIError.self) {
                try await JobdClient.withClient(socketPath: daemon.socketPath) { client in
                    _ = try await client.events()
                }
            }
            #expect(error?.code == .routeNotFound)
        }
    }

    @Test("a 200 answer that is not an event stream throws bad_response")
    func notAnEventStream() async throws {
        try await FakeDaemon.with(answer: .raw(200, "{}")) { daemon in
            let error = await #expect(throws: ClientError.self) {
                try await JobdClient.withClient(socketPath: daemon.socketPath) { client in
                    _ = try await client.events()
                }
            }
            #expect(error?.code == .badResponse)
        }
    }

    @Test("an event whose data does not decode throws bad_response")
    func badEvent() async throws {
        let stream = FakeDaemon.Response.eventStream { send in
            _ = send(Data("event: started\ndata: {\"id\":1}\n\n".utf8))
        }
        try await FakeDaemon.with(answer: stream) { daemon in
            let error = await #expect(throws: ClientError.self) {
                try await JobdClient.withClient(socketPath: daemon.socketPath) { client in
                    for try await _ in try await client.events() {}
                }
            }
            #expect(error?.code == .badResponse)
        }
    }

    @Test("waitForAll subscribes, reads each job once, then counts terminal events; no long polls")
    func waitForAllFollowsEvents() async throws {
        let seen = Mutex<[String]>([])
        let eventsSent = Mutex(false)
        let handler: @Sendable (FakeDaemon.Request) -> FakeDaemon.Response = { request in
            seen.withLock { $0.append(request.uri) }
            let sent = eventsSent.withLock { $0 }
            switch request.uri {
            case "/v1/events":
                return .eventStream { send in
                    // Only after both unfinished jobs were read, so that their events
                    // can only have been counted from the stream.
                    Self.await { seen.withLock { $0.contains("/v1/jobs/2") && $0.contains("/v1/jobs/3") } }
                    eventsSent.withLock { $0 = true }
                    let events = [
                        Self.event(10, .started, job: 2, state: .running),
                        Self.event(11, .succeeded, job: 9, state: .succeeded),
                        Self.event(12, .succeeded, job: 2, state: .succeeded),
                        Self.event(13, .attemptFailed, job: 3, state: .running),
                        Self.event(14, .failed, job: 3, state: .failed),
                    ]
                    guard send(Data(events.map(Self.frame).joined().utf8)) else { return }
                    Self.keepOpen(send)
                }
            case "/v1/jobs/1":
                return .json(200, Fixtures.record(id: 1, state: .succeeded))
            case "/v1/jobs/2":
                return .json(200, Fixtures.record(id: 2, state: sent ? .succeeded : .running))
            case "/v1/jobs/3":
                return .json(200, Fixtures.record(id: 3, state: sent ? .failed : .queued))
            default:
                return .json(404, APIErrorResponse(error: APIError(.routeNotFound, request.uri)))
            }
        }
        try await FakeDaemon.with(handler: handler) { daemon in
            var progress: [WaitProgress] = []
            let records = try await JobdClient.withClient(socketPath: daemon.socketPath) { client in
                try await client.waitForAll([1, 2, 3, 2]) { progress.append($0) }
            }
            #expect(records.map(\.id) == [1, 2, 3, 2])
            #expect(records.map(\.state) == [.succeeded, .succeeded, .failed, .succeeded])
            #expect(progress.last == WaitProgress(total: 3, done: 3, failed: 1))
            #expect(progress.map(\.done) == [1, 2, 3])
            let uris = seen.withLock { $0 }
            #expect(uris.first == "/v1/events")
            #expect(!uris.contains { $0.contains("/wait") }, "\(uris)")
            #expect(uris.filter { $0 == "/v1/jobs/1" }.count == 1, "a job finished at the first read is read once")
        }
    }

    @Test("after lagged, waitForAll long-polls the unfinished jobs in order")
    func waitForAllFallsBackOnLagged() async throws {
        let seen = Mutex<[String]>([])
        let handler: @Sendable (FakeDaemon.Request) -> FakeDaemon.Response = { request in
            seen.withLock { $0.append(request.uri) }
            switch request.uri {
            case "/v1/events":
                return .eventStream { send in
                    Self.await { seen.withLock { $0.contains("/v1/jobs/2") && $0.contains("/v1/jobs/3") } }
                    guard send(Data(Self.frame(Self.event(20, .lagged, job: nil)).utf8)) else { return }
                    Self.keepOpen(send)
                }
            case "/v1/jobs/2", "/v1/jobs/3":
                return .json(200, Fixtures.record(id: request.uri.hasSuffix("2") ? 2 : 3, state: .running))
            case "/v1/jobs/2/wait?timeout=60":
                return .json(200, Fixtures.record(id: 2, state: .cancelled))
            case "/v1/jobs/3/wait?timeout=60":
                return .json(200, Fixtures.record(id: 3, state: .succeeded))
            default:
                return .json(404, APIErrorResponse(error: APIError(.routeNotFound, request.uri)))
            }
        }
        try await FakeDaemon.with(handler: handler) { daemon in
            let records = try await JobdClient.withClient(socketPath: daemon.socketPath) { client in
                try await client.waitForAll([2, 3])
            }
            #expect(records.map(\.state) == [.cancelled, .succeeded])
            let polls = seen.withLock { $0 }.filter { $0.contains("/wait") }
            #expect(polls == ["/v1/jobs/2/wait?timeout=60", "/v1/jobs/3/wait?timeout=60"])
        }
    }

    @Test("without an event stream (an older jobd), waitForAll long-polls every job")
    func waitForAllWithoutEvents() async throws {
        let handler: @Sendable (FakeDaemon.Request) -> FakeDaemon.Response = { request in
            switch request.uri {
            case "/v1/jobs/4/wait?timeout=60": .json(200, Fixtures.record(id: 4, state: .succeeded))
            case "/v1/jobs/5/wait?timeout=60": .json(200, Fixtures.record(id: 5, state: .failed))
            default: .json(404, APIErrorResponse(error: APIError(.routeNotFound, request.uri)))
            }
        }
        try await FakeDaemon.with(handler: handler) { daemon in
            var last: WaitProgress?
            let records = try await JobdClient.withClient(socketPath: daemon.socketPath) { client in
                try await client.waitForAll([4, 5]) { last = $0 }
            }
            #expect(records.map(\.state) == [.succeeded, .failed])
            #expect(last == WaitProgress(total: 2, done: 2, failed: 1))
            #expect(daemon.requests.map(\.uri).first == "/v1/events")
        }
    }

    @Test("past the timeout, waitForAll returns the jobs as they are", .timeLimit(.minutes(2)))
    func waitForAllTimeout() async throws {
        let handler: @Sendable (FakeDaemon.Request) -> FakeDaemon.Response = { request in
            switch request.uri {
            case "/v1/events": .eventStream { send in Self.keepOpen(send) }
            case "/v1/jobs/6": .json(200, Fixtures.record(id: 6, state: .running))
            case "/v1/jobs/7": .json(200, Fixtures.record(id: 7, state: .succeeded))
            default: .json(404, APIErrorResponse(error: APIError(.routeNotFound, request.uri)))
            }
        }
        try await FakeDaemon.with(handler: handler) { daemon in
            let records = try await JobdClient.withClient(socketPath: daemon.socketPath) { client in
                try await client.waitForAll([6, 7], timeout: .milliseconds(300))
            }
            #expect(records.map(\.state) == [.running, .succeeded])
            // Job 6 never finishes, so any answer at all means the timeout was honoured; the
            // test's time limit catches a wait that never returns. (Tearing down the fake
            // daemon's open event stream takes seconds under load; latency is the bench's.)
        }
    }

    @Test("an unknown job makes waitForAll throw job_not_found")
    func waitForAllUnknownJob() async throws {
        let handler: @Sendable (FakeDaemon.Request) -> FakeDaemon.Response = { request in
            switch request.uri {
            case "/v1/events": .eventStream { send in Self.keepOpen(send) }
            case "/v1/jobs/1": .json(200, Fixtures.record(id: 1, state: .running))
            default: .json(404, APIErrorResponse(error: APIError(.jobNotFound, "no job has id 2")))
            }
        }
        try await FakeDaemon.with(handler: handler) { daemon in
            let error = await #expect(throws: APIError.self) {
                try await JobdClient.withClient(socketPath: daemon.socketPath) { client in
                    try await client.waitForAll([1, 2])
                }
            }
            #expect(error?.code == .jobNotFound)
        }
    }
}
