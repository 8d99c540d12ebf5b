import Foundation
import Hummingbird
import JobdModel
import JobdRuntime

/// Dispatching controls: `/v1/workers`, `/v1/pause`, `/v1/resume`, `/v1/prune`.
///
/// Reading the worker limit is open to every allowed peer; changing anything is for
/// admins only (403 `forbidden`), since it affects every user's jobs.
struct DispatchController: Sendable {
    typealias Context = JobdRequestContext

    let dispatcher: Dispatcher
    let options: ServerOptions

    func add(to router: Router<Context>) {
        router.get("/v1/workers", use: workers)
        router.put("/v1/workers", use: setWorkers)
        router.post("/v1/pause", use: pause)
        router.post("/v1/resume", use: resume)
        router.post("/v1/prune", use: prune)
    }

    @Sendable func workers(_ request: Request, context: Context) async throws -> Response {
        try JSONBody.response(current)
    }

    /// `PUT /v1/workers {"workers": N}`: the new global limit, live.
    @Sendable func setWorkers(_ request: Request, context: Context) async throws -> Response {
        try context.requireCaller().requireAdmin(to: "change the worker limit")
        let body: WorkersRequest = try await decode(request)
        guard (1...100_000).contains(body.workers) else {
            throw APIError(.invalidSpec, "workers must be 1 to 100000, got \(body.workers)", field: "workers")
        }
        dispatcher.setWorkers(body.workers)
        return try JSONBody.response(current)
    }

    @Sendable func pause(_ request: Request, context: Context) async throws -> Response {
        try context.requireCaller().requireAdmin(to: "pause dispatching")
        try await dispatcher.pause()
        return try JSONBody.response(current)
    }

    @Sendable func resume(_ request: Request, context: Context) async throws -> Response {
        try context.requireCaller().requireAdmin(to: "resume dispatching")
        try await dispatcher.resume()
        return try JSONBody.response(current)
    }

    /// `POST /v1/prune {"older_than": SECONDS}`.
    @Sendable func prune(_ request: Request, context: Context) async throws -> Response {
        try context.requireCaller().requireAdmin(to: "prune jobs")
        let body: PruneRequest = try await decode(request)
        guard body.olderThan.isFinite, body.olderThan >= 0 else {
            throw APIError(.invalidSpec, "older_than must be 0 or more seconds", field: "older_than")
        }
        let pruned = try await dispatcher.prune(olderThan: .milliseconds(Int64(min(body.olderThan, 1e10) * 1000)))
        return try JSONBody.response(PruneResponse(pruned: pruned))
    }

    private var current: DispatchResponse {
        let statistics = dispatcher.statistics
        return DispatchResponse(workers: statistics.workers, paused: statistics.isPaused)
    }

    private func decode<T: Decodable>(_ request: Request) async throws -> T {
        let body = try await request.body.collect(upTo: 64 * 1024)
        do {
            return try JSONCoding.makeDecoder().decode(T.self, from: Data(body.readableBytesView))
        } catch let error as DecodingError {
            throw APIError(decoding: error)
        } catch {
            throw APIError(.invalidJSON, "the body is not valid JSON")
        }
    }
}
