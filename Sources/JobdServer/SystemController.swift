import Foundation
import Hummingbird
import JobdModel
import JobdRuntime
import JobdStore

/// Daemon-wide routes: `/v1/stats`, `/v1/health` and `/v1/nodes`, open to every allowed peer.
struct SystemController: Sendable {
    typealias Context = JobdRequestContext

    let store: any JobStore
    let dispatcher: Dispatcher
    let startedAt: ContinuousClock.Instant
    let history: StatsHistory

    func add(to router: Router<Context>) {
        router.get("/v1/stats", use: stats)
        router.get("/v1/stats/history", use: statsHistory)
        router.get("/v1/health", use: health)
        router.get("/v1/nodes", use: nodes)
    }

    /// `GET /v1/stats`: jobs per state, the database's size and the dispatcher's counters.
    @Sendable func stats(_ request: Request, context: Context) async throws -> Response {
        let counts = try await store.counts()
        let size = try await store.size()
        let dispatcher = dispatcher.statistics
        let writes = store.statistics
        return try JSONBody.response(
            StatsResponse(
                waiting: counts.waiting, queued: counts.queued, running: counts.running, succeeded: counts.succeeded,
                failed: counts.failed,
                cancelled: counts.cancelled, workers: dispatcher.workers, paused: dispatcher.isPaused,
                maxRunning: dispatcher.maxRunning,
                submitted: dispatcher.submitted, finished: dispatcher.finished, commits: writes.commits,
                uptimeSeconds: uptime, rateLimited: dispatcher.rateLimited, hosts: self.dispatcher.hostFigures,
                databaseBytes: size.bytes, databaseFreeBytes: size.freeBytes, databaseWALBytes: size.walBytes))
    }

    /// `GET /v1/stats/history`: the last hour, a sample a minute, and the minute in
    /// progress (one count query, as `/v1/stats`).
    @Sendable func statsHistory(_ request: Request, context: Context) async throws -> Response {
        guard history.totals != nil else { return try JSONBody.response(history.response(now: nil)) }
        let counts = try await store.counts()
        let statistics = dispatcher.statistics
        let totals = StatsHistory.Totals(
            submitted: statistics.submitted, finished: statistics.finished, failed: counts.failed)
        return try JSONBody.response(history.response(now: (totals, counts.queued, counts.running)))
    }

    /// `GET /v1/health`: answers without touching the database, so it stays fast under load.
    @Sendable func health(_ request: Request, context: Context) async throws -> Response {
        try JSONBody.response(
            HealthResponse(
                status: dispatcher.statistics.isShuttingDown ? "stopping" : "ok", version: jobdVersion,
                pid: getpid(), uptimeSeconds: uptime, database: store.location))
    }

    /// `GET /v1/nodes`: the cluster's nodes (none on SQLite).
    @Sendable func nodes(_ request: Request, context: Context) async throws -> Response {
        let nodes = try await store.nodes()
        return try JSONBody.response(NodeListResponse(engine: nodes == nil ? "sqlite" : "postgres", nodes: nodes ?? []))
    }

    private var uptime: Double {
        (ContinuousClock.now - startedAt).secondsValue
    }
}
