import Foundation
import Hummingbird
import JobdModel
import JobdRuntime
import JobdStore
import NIOPosix

/// The `/v1/batches` resource: create, get, list, wait for the results, cancel.
///
/// A batch follows the job rules of ownership: a caller who is not an admin sees, waits on
/// and cancels only their own batches; another user's batch answers 404
/// `batch_not_found`, exactly like one that does not exist.
struct BatchesController: Sendable {
    typealias Context = JobdRequestContext

    let store: any JobStore
    let dispatcher: Dispatcher
    let events: EventBroadcaster
    let options: ServerOptions

    func add(to router: Router<Context>) {
        router.post("/v1/batches", use: create)
        router.get("/v1/batches", use: list)
        router.get("/v1/batches/:id", use: get)
        router.get("/v1/batches/:id/wait", use: wait)
        router.post("/v1/batches/:id/cancel", use: cancel)
    }

    /// `POST /v1/batches`: 201 with the ids after the commit.
    @Sendable func create(_ request: Request, context: Context) async throws -> Response {
        let caller = try context.requireCaller()
        let maxBatch = options.maxBatch
        let create = try await RequestBodyDecoder.decode(request, options: options) { bytes in
            try CreateBatchRequest.decode(bytes, maxBatch: maxBatch)
        }
        let outcome = try await dispatcher.submitBatch(create, submitterUID: caller.peer.uid)
        return try JSONBody.response(
            CreateBatchResponse(id: outcome.id, jobIDs: outcome.jobIDs, onCompleteID: outcome.onCompleteID),
            status: .created)
    }

    /// `GET /v1/batches/{id}`: the batch with its counts and job ids.
    @Sendable func get(_ request: Request, context: Context) async throws -> Response {
        let caller = try context.requireCaller()
        let id = try batchID(context)
        return try JSONBody.response(try await visibleBatch(id, to: caller))
    }

    /// `GET /v1/batches?state=&limit=&after=`: newest first, cursor-paginated; the caller's
    /// own batches unless an admin asks.
    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        let caller = try context.requireCaller()
        let query = request.uri.queryParameters
        var state: BatchState?
        if let text = query.get("state") {
            guard let value = BatchState(rawValue: text) else {
                throw APIError(
                    .invalidQuery,
                    "state must be one of \(BatchState.allCases.map(\.rawValue).joined(separator: ", "))",
                    field: "state")
            }
            state = value
        }
        let limit = try QueryOptions.limit(query, options: options)
        var after: BatchID?
        if let text = query.get("after") {
            guard let value = BatchID(text) else {
                throw APIError(.invalidQuery, "after must be a batch id (1 or more)", field: "after")
            }
            after = value
        }
        let batches = try await store.batches(
            BatchListQuery(state: state, limit: limit, before: after, submitterUID: caller.submitterScope))
        let next = batches.count == limit ? batches.last?.id : nil
        return try JSONBody.response(BatchListResponse(batches: batches, nextAfter: next))
    }

    /// `GET /v1/batches/{id}/wait?timeout=`: long-polls until the batch is finished or the
    /// timeout passes; answers the batch, with its results in submit order once finished.
    @Sendable func wait(_ request: Request, context: Context) async throws -> Response {
        let caller = try context.requireCaller()
        let id = try batchID(context)
        let timeout = try QueryOptions.waitTimeout(request.uri.queryParameters, options: options)
        // Register before reading, so an end between the read and the wait still wakes us.
        let registration = events.register(batch: id)
        defer { events.cancel(registration) }
        var batch = try await visibleBatch(id, to: caller)
        if !batch.state.isFinished && timeout > .zero {
            _ = await events.wait(registration, timeout: timeout)
            batch = try await visibleBatch(id, to: caller)
        }
        let results = batch.state.isFinished ? try await store.batchResults(id) : nil
        return try JSONBody.response(BatchWaitResponse(batch: batch, results: results))
    }

    /// `POST /v1/batches/{id}/cancel`: every unfinished job of the batch.
    @Sendable func cancel(_ request: Request, context: Context) async throws -> Response {
        let caller = try context.requireCaller()
        let id = try batchID(context)
        _ = try await visibleBatch(id, to: caller)
        do {
            return try JSONBody.response(try await dispatcher.cancelBatch(id))
        } catch let error as DispatchError where error.code == .notFound {
            throw Self.notFound(id)
        }
    }

    /// The batch, if the caller may see it (an admin, or its submitter); else 404.
    private func visibleBatch(_ id: BatchID, to caller: Caller) async throws -> BatchRecord {
        guard let batch = try await store.batch(id), caller.isAdmin || batch.submitterUID == caller.peer.uid else {
            throw Self.notFound(id)
        }
        return batch
    }

    private func batchID(_ context: Context) throws -> BatchID {
        let text = context.parameters.get("id") ?? ""
        guard let id = BatchID(text) else {
            throw APIError(.batchNotFound, "no batch has id \(text.debugDescription)", field: "id")
        }
        return id
    }

    static func notFound(_ id: BatchID) -> APIError {
        APIError(.batchNotFound, "no batch has id \(id)")
    }
}
