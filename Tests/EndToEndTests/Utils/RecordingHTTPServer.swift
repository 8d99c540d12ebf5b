import Foundation
import Hummingbird
import Synchronization
import Testing

/// A fetch target on 127.0.0.1 that records when each request reached it (the test
/// process's monotonic clock, read in the handler): server-side timestamps, for tests of
/// rates. `/hit/{n}` answers 200 `hit {n}`.
struct RecordingHTTPServer: Sendable {
    /// One request as the server saw it.
    struct Hit: Sendable {
        var path: String
        var at: ContinuousClock.Instant
    }

    let port: Int
    private let log: RequestLog

    fileprivate init(port: Int, log: RequestLog) {
        self.port = port
        self.log = log
    }

    var base: String { "http://127.0.0.1:\(port)" }
    /// The `host:port` jobd keys this server by.
    var hostKey: String { "127.0.0.1:\(port)" }
    /// Every request so far, in arrival order.
    var hits: [Hit] { log.hits }
}

/// The recorded requests, shared by the handler and the test.
private final class RequestLog: Sendable {
    private let state = Mutex<[RecordingHTTPServer.Hit]>([])

    func record(_ path: String) {
        let at = ContinuousClock.now
        state.withLock { $0.append(RecordingHTTPServer.Hit(path: path, at: at)) }
    }

    var hits: [RecordingHTTPServer.Hit] { state.withLock { $0 } }
}

/// Runs `body` with a recording server on 127.0.0.1:0, stopping it afterwards.
func withRecordingHTTPServer(_ body: @escaping @Sendable (RecordingHTTPServer) async throws -> Void) async throws {
    let log = RequestLog()
    let router = Router()
    router.get("/hit/:n") { request, context -> String in
        log.record(request.uri.path)
        return "hit \(context.parameters.get("n") ?? "")"
    }
    try await serve(router) { port in try await body(RecordingHTTPServer(port: port, log: log)) }
}
