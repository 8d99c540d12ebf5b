import Foundation
import Hummingbird
import JobdModel
import JobdRuntime
import JobdStore
import NIOCore
import NIOPosix

/// The `/v1/jobs` resource: submit, get, list, result, wait, cancel, retry.
///
/// A job records its submitter's uid. A caller who is not an admin sees, waits on,
/// cancels and retries only their own jobs: another user's job answers 404
/// `job_not_found`, exactly like a job that does not exist.
struct JobsController: Sendable {
    typealias Context = JobdRequestContext

    let store: any JobStore
    let dispatcher: Dispatcher
    let events: EventBroadcaster
    let options: ServerOptions

    func add(to router: Router<Context>) {
        router.post("/v1/jobs", use: submit)
        router.get("/v1/jobs", use: list)
        router.get("/v1/jobs/:id", use: get)
        router.get("/v1/jobs/:id/result", use: result)
        router.get("/v1/jobs/:id/wait", use: wait)
        router.post("/v1/jobs/:id/cancel", use: cancel)
        router.post("/v1/jobs/:id/retry", use: retry)
    }

    /// `POST /v1/jobs/{id}/retry`: a finished job queued again; answers the record.
    @Sendable func retry(_ request: Request, context: Context) async throws -> Response {
        let caller = try context.requireCaller()
        let id = try jobID(context)
        try await requireOwned(id, by: caller)
        try await dispatcher.retry(id)
        guard let record = try await store.job(id), caller.canSee(record) else { throw Self.notFound(id) }
        return try JSONBody.response(record)
    }

    /// `POST /v1/jobs`: 201 after the commit (200 when every job's key already existed).
    @Sendable func submit(_ request: Request, context: Context) async throws -> Response {
        let caller = try context.requireCaller()
        let maxBatch = options.maxBatch
        let submit = try await RequestBodyDecoder.decode(request, options: options) { bytes in
            try SubmitJobsRequest.decode(bytes, maxBatch: maxBatch)
        }
        switch submit {
        case .single(let spec):
            let outcomes: [InsertOutcome]
            do {
                outcomes = try await dispatcher.submit([spec], submitterUID: caller.peer.uid)
            } catch var error as StoreError where error.code == .unknownDependency {
                // One job, not a batch: its field is `after[k]`, not `jobs[0].after[k]`.
                error.field = error.field.map { $0.hasPrefix("jobs[0].") ? String($0.dropFirst(8)) : $0 }
                throw error
            }
            guard let outcome = outcomes.first, let record = try await store.job(outcome.id) else {
                throw APIError(.internal, "the submitted job could not be read back")
            }
            return try JSONBody.response(record, status: outcome.created ? .created : .ok)
        case .batch(let specs):
            let outcomes = try await dispatcher.submit(specs, submitterUID: caller.peer.uid)
            let anyCreated = outcomes.contains { $0.created }
            return try JSONBody.response(
                SubmitBatchResponse(ids: outcomes.map(\.id)), status: anyCreated ? .created : .ok)
        }
    }

    /// `GET /v1/jobs/{id}`: the full record with attempts, and the rate limit it waits for
    /// when this daemon holds it waiting for one.
    @Sendable func get(_ request: Request, context: Context) async throws -> Response {
        let caller = try context.requireCaller()
        let id = try jobID(context)
        guard let record = try await store.job(id), caller.canSee(record) else { throw Self.notFound(id) }
        return try JSONBody.response(withRateLimit(record))
    }

    /// `record` with its rate-limit wait, if this daemon's dispatcher holds it waiting:
    /// on an engine with many nodes only the node holding the job knows.
    private func withRateLimit(_ record: JobRecord) -> JobRecord {
        guard record.state == .running, let wait = dispatcher.rateLimitWait(of: record.id) else { return record }
        var record = record
        record.rateLimit = wait
        return record
    }

    /// `GET /v1/jobs?state=&kind=&tag=&limit=&after=`: newest first, cursor-paginated; the
    /// caller's own jobs unless an admin asks. `tag` is looked up in the store's tag index.
    /// The jobs are summaries (`JobSummary`): no result bodies, whatever the jobs fetched.
    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        let caller = try context.requireCaller()
        let query = request.uri.queryParameters
        var state: JobState?
        if let text = query.get("state") {
            guard let value = JobState(rawValue: text) else {
                throw APIError(
                    .invalidQuery, "state must be one of \(JobState.allCases.map(\.rawValue).joined(separator: ", "))",
                    field: "state")
            }
            state = value
        }
        var kind: JobKind?
        if let text = query.get("kind") {
            guard let value = JobKind(rawValue: text) else {
                throw APIError(
                    .invalidQuery, "kind must be one of \(JobKind.allCases.map(\.rawValue).joined(separator: ", "))",
                    field: "kind")
            }
            kind = value
        }
        var tag: String?
        if let text = query.get("tag") {
            guard JobSpec.isValidTag(text) else {
                throw APIError(
                    .invalidQuery,
                    "tag must be 1 to \(JobSpec.maxTagLength) characters of A-Z a-z 0-9 _ . : -, got \(text.debugDescription)",
                    field: "tag")
            }
            tag = text
        }
        let limit = try QueryOptions.limit(query, options: options)
        var after: JobID?
        if let text = query.get("after") {
            guard let value = JobID(text) else {
                throw APIError(.invalidQuery, "after must be a job id", field: "after")
            }
            after = value
        }
        let jobs = try await store.list(
            state: state, kind: kind, limit: limit, before: after, submitterUID: caller.submitterScope, tag: tag)
        let next = jobs.count == limit ? jobs.last?.id : nil
        return try JSONBody.response(JobListResponse(jobs: jobs, nextAfter: next))
    }

    /// `GET /v1/jobs/{id}/wait?timeout=`: long-polls until terminal or the timeout passes,
    /// then answers the record as it is.
    @Sendable func wait(_ request: Request, context: Context) async throws -> Response {
        let caller = try context.requireCaller()
        let id = try jobID(context)
        let timeout = try QueryOptions.waitTimeout(request.uri.queryParameters, options: options)
        // Register before reading, so a finish between the read and the wait still wakes us.
        let registration = events.register(id)
        defer { events.cancel(registration) }
        guard let first = try await store.job(id), caller.canSee(first) else { throw Self.notFound(id) }
        if first.state.isTerminal || timeout == .zero {
            return try JSONBody.response(withRateLimit(first))
        }
        _ = await events.wait(registration, timeout: timeout)
        guard let record = try await store.job(id), caller.canSee(record) else { throw Self.notFound(id) }
        return try JSONBody.response(withRateLimit(record))
    }

    /// `POST /v1/jobs/{id}/cancel`.
    @Sendable func cancel(_ request: Request, context: Context) async throws -> Response {
        let caller = try context.requireCaller()
        let id = try jobID(context)
        try await requireOwned(id, by: caller)
        let state = try await dispatcher.cancel(id)
        return try JSONBody.response(CancelResponse(id: id, state: state))
    }

    /// Throws `job_not_found` unless the job exists and the caller may act on it: its own
    /// job, or any job for an admin (`submitterScope` nil). Another user's job is answered
    /// as not found, so its existence is not revealed. Job ids are never reused and a
    /// job's submitter never changes, so the answer holds for the action that follows.
    private func requireOwned(_ id: JobID, by caller: Caller) async throws {
        guard let owner = try await store.owner(of: id),
            caller.submitterScope == nil || owner.submitterUID == caller.submitterScope
        else { throw Self.notFound(id) }
    }

    func jobID(_ context: Context) throws -> JobID {
        let text = context.parameters.get("id") ?? ""
        guard let id = JobID(text) else {
            throw APIError(.jobNotFound, "no job has id \(text.debugDescription)", field: "id")
        }
        return id
    }

    static func notFound(_ id: JobID) -> APIError {
        APIError(.jobNotFound, "no job has id \(id)")
    }
}
