import Foundation

/// The body of `POST /v1/jobs`: one job spec, or `{"jobs":[...]}` for a batch.
///
/// A batch is stored in one transaction: all of it or none of it.
public enum SubmitJobsRequest: Codable, Hashable, Sendable {
    case single(JobSpec)
    case batch([JobSpec])

    enum CodingKeys: String, CodingKey { case jobs }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if container.contains(.jobs) {
            self = .batch(try container.decode([JobSpec].self, forKey: .jobs))
        } else {
            self = .single(try JobSpec(from: decoder))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .single(let spec): try spec.encode(to: encoder)
        case .batch(let specs):
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(specs, forKey: .jobs)
        }
    }
}

/// The answer to a batch submit: the new jobs' ids, in submit order.
///
/// A single submit answers with the full `JobRecord` instead.
public struct SubmitBatchResponse: Codable, Hashable, Sendable {
    /// One id per submitted spec, in the order of the request.
    public var ids: [JobID]
    public init(ids: [JobID]) { self.ids = ids }
}

/// The answer to `GET /v1/jobs`: one page, newest first.
///
/// The jobs are summaries: no result bodies, no attempt lists (`JobSummary`).
public struct JobListResponse: Codable, Hashable, Sendable {
    /// The jobs on this page.
    public var jobs: [JobSummary]
    /// Pass as `after` to get the next (older) page; nil on the last page.
    public var nextAfter: JobID?

    public init(jobs: [JobSummary], nextAfter: JobID?) {
        self.jobs = jobs
        self.nextAfter = nextAfter
    }

    enum CodingKeys: String, CodingKey {
        case jobs
        case nextAfter = "next_after"
    }
}

/// The answer to `POST /v1/jobs/{id}/cancel`.
public struct CancelResponse: Codable, Hashable, Sendable {
    /// The job's id.
    public var id: JobID
    /// `cancelled` when it was queued; `running` when its attempt was asked to stop
    /// (the state becomes `cancelled` once the attempt has stopped).
    public var state: JobState

    public init(id: JobID, state: JobState) {
        self.id = id
        self.state = state
    }
}

/// The body of `PUT /v1/workers`.
public struct WorkersRequest: Codable, Hashable, Sendable {
    /// The new global worker limit (1 or more).
    public var workers: Int
    public init(workers: Int) { self.workers = workers }
}

/// The answer to `PUT /v1/workers`, `POST /v1/pause` and `POST /v1/resume`.
public struct DispatchResponse: Codable, Hashable, Sendable {
    /// The global worker limit.
    public var workers: Int
    /// True while dispatching is paused.
    public var paused: Bool
    public init(workers: Int, paused: Bool) {
        self.workers = workers
        self.paused = paused
    }
}

/// The body of `POST /v1/prune`.
public struct PruneRequest: Codable, Hashable, Sendable {
    /// Delete finished jobs that finished more than this many seconds ago.
    public var olderThan: Double
    public init(olderThan: Double) { self.olderThan = olderThan }
    enum CodingKeys: String, CodingKey { case olderThan = "older_than" }
}

/// The answer to `POST /v1/prune`.
public struct PruneResponse: Codable, Hashable, Sendable {
    /// How many jobs were deleted (with their attempts).
    public var pruned: Int
    public init(pruned: Int) { self.pruned = pruned }
}

/// The answer to `GET /v1/stats`.
public struct StatsResponse: Codable, Hashable, Sendable {
    /// Jobs per state, over the whole database.
    public var waiting: Int
    public var queued: Int
    public var running: Int
    public var succeeded: Int
    public var failed: Int
    public var cancelled: Int
    /// The global worker limit.
    public var workers: Int
    /// True while dispatching is paused.
    public var paused: Bool
    /// The highest number of jobs seen running at once since the daemon started.
    public var maxRunning: Int
    /// Jobs accepted since the daemon started.
    public var submitted: Int
    /// Attempts finished since the daemon started.
    public var finished: Int
    /// Write transactions committed since the daemon started (group commit: many
    /// operations share one).
    public var commits: Int
    /// Seconds since the daemon started.
    public var uptimeSeconds: Double
    /// Fetches this daemon claimed that wait for a host's rate limit without holding a
    /// worker slot; they are `running` in the database, so `running` counts them too.
    public var rateLimited: Int
    /// The hosts this daemon fetches from now, busiest first; nil (absent) when none.
    public var hosts: [HostFigures]?
    /// The database's size in bytes: SQLite's pages (the main file once checkpointed),
    /// or PostgreSQL's jobd tables with their indexes. Nil from a daemon older than it.
    public var databaseBytes: Int64?
    /// Bytes of free pages inside `databaseBytes` that `jobctl vacuum` gives back
    /// (SQLite only).
    public var databaseFreeBytes: Int64?
    /// The size of SQLite's `-wal` file beside the database (SQLite only).
    public var databaseWALBytes: Int64?

    public init(
        waiting: Int = 0, queued: Int, running: Int, succeeded: Int, failed: Int, cancelled: Int, workers: Int,
        paused: Bool = false, maxRunning: Int, submitted: Int, finished: Int, commits: Int, uptimeSeconds: Double,
        rateLimited: Int = 0, hosts: [HostFigures]? = nil, databaseBytes: Int64? = nil,
        databaseFreeBytes: Int64? = nil, databaseWALBytes: Int64? = nil
    ) {
        self.waiting = waiting
        self.queued = queued
        self.running = running
        self.succeeded = succeeded
        self.failed = failed
        self.cancelled = cancelled
        self.workers = workers
        self.paused = paused
        self.maxRunning = maxRunning
        self.submitted = submitted
        self.finished = finished
        self.commits = commits
        self.uptimeSeconds = uptimeSeconds
        self.rateLimited = rateLimited
        self.hosts = hosts.flatMap { $0.isEmpty ? nil : $0 }
        self.databaseBytes = databaseBytes
        self.databaseFreeBytes = databaseFreeBytes
        self.databaseWALBytes = databaseWALBytes
    }

    enum CodingKeys: String, CodingKey {
        case waiting
        case queued
        case running
        case succeeded
        case failed
        case cancelled
        case workers
        case paused
        case maxRunning = "max_running"
        case submitted
        case finished
        case commits
        case uptimeSeconds = "uptime_seconds"
        case rateLimited = "rate_limited"
        case hosts
        case databaseBytes = "database_bytes"
        case databaseFreeBytes = "database_free_bytes"
        case databaseWALBytes = "database_wal_bytes"
    }

    /// Decodes a body; one from a daemon older than the `waiting` state, or than rate
    /// limits, counts none of them; one older than database sizes has none.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        waiting = try container.decodeIfPresent(Int.self, forKey: .waiting) ?? 0
        queued = try container.decode(Int.self, forKey: .queued)
        running = try container.decode(Int.self, forKey: .running)
        succeeded = try container.decode(Int.self, forKey: .succeeded)
        failed = try container.decode(Int.self, forKey: .failed)
        cancelled = try container.decode(Int.self, forKey: .cancelled)
        workers = try container.decode(Int.self, forKey: .workers)
        paused = try container.decode(Bool.self, forKey: .paused)
        maxRunning = try container.decode(Int.self, forKey: .maxRunning)
        submitted = try container.decode(Int.self, forKey: .submitted)
        finished = try container.decode(Int.self, forKey: .finished)
        commits = try container.decode(Int.self, forKey: .commits)
        uptimeSeconds = try container.decode(Double.self, forKey: .uptimeSeconds)
        rateLimited = try container.decodeIfPresent(Int.self, forKey: .rateLimited) ?? 0
        databaseBytes = try container.decodeIfPresent(Int64.self, forKey: .databaseBytes)
        databaseFreeBytes = try container.decodeIfPresent(Int64.self, forKey: .databaseFreeBytes)
        databaseWALBytes = try container.decodeIfPresent(Int64.self, forKey: .databaseWALBytes)
        hosts = try container.decodeIfPresent([HostFigures].self, forKey: .hosts)
    }
}

/// One host a daemon fetches from now (`GET /v1/stats`, `hosts`).
public struct HostFigures: Codable, Hashable, Sendable {
    /// The `host:port`.
    public var host: String
    /// Its fetches running now, each holding a worker slot.
    public var running: Int
    /// Its claimed fetches waiting for its rate limit, holding no slot.
    public var rateLimited: Int

    public init(host: String, running: Int = 0, rateLimited: Int = 0) {
        self.host = host
        self.running = running
        self.rateLimited = rateLimited
    }

    enum CodingKeys: String, CodingKey {
        case host
        case running
        case rateLimited = "rate_limited"
    }
}

/// The answer to `GET /v1/health`.
public struct HealthResponse: Codable, Hashable, Sendable {
    /// `ok`, or `stopping` during a graceful shutdown.
    public var status: String
    /// The daemon's version.
    public var version: String
    /// The daemon's process id.
    public var pid: Int32
    /// Seconds since the daemon started.
    public var uptimeSeconds: Double
    /// The database file in use.
    public var database: String

    public init(status: String, version: String, pid: Int32, uptimeSeconds: Double, database: String) {
        self.status = status
        self.version = version
        self.pid = pid
        self.uptimeSeconds = uptimeSeconds
        self.database = database
    }

    enum CodingKeys: String, CodingKey {
        case status
        case version
        case pid
        case uptimeSeconds = "uptime_seconds"
        case database
    }
}

/// The route paths of API v1, shared by the server and the client.
public enum APIRoutes {
    /// `POST` submit, `GET` list.
    public static let jobs = "/v1/jobs"
    /// `GET` one job.
    public static func job(_ id: JobID) -> String { "/v1/jobs/\(id)" }
    /// `GET` the result body alone, with its own content type, streamed.
    public static func result(_ id: JobID) -> String { "/v1/jobs/\(id)/result" }
    /// `GET` long-poll until terminal.
    public static func wait(_ id: JobID) -> String { "/v1/jobs/\(id)/wait" }
    /// `POST` cancel.
    public static func cancel(_ id: JobID) -> String { "/v1/jobs/\(id)/cancel" }
    /// `POST` re-queue a finished job.
    public static func retry(_ id: JobID) -> String { "/v1/jobs/\(id)/retry" }
    /// `GET` server-sent events of every state change.
    public static let events = "/v1/events"
    /// `PUT` the global worker limit (`WorkersRequest`).
    public static let workers = "/v1/workers"
    /// `POST` stop dispatching (running jobs go on).
    public static let pause = "/v1/pause"
    /// `POST` start dispatching again.
    public static let resume = "/v1/resume"
    /// `POST` delete finished jobs older than a given age (`PruneRequest`).
    public static let prune = "/v1/prune"
    /// `POST` a consistent copy of the database, answered as its bytes (admins only).
    public static let backup = "/v1/backup"
    /// `POST` give the database's free space back (admins only; `VacuumResponse`).
    public static let vacuum = "/v1/vacuum"
    /// `GET` counts.
    public static let stats = "/v1/stats"
    /// `GET` liveness.
    public static let health = "/v1/health"
    /// The cluster's nodes.
    public static let nodes = "/v1/nodes"
    /// `GET` per-minute samples of the last hour (`StatsHistoryResponse`).
    public static let statsHistory = "/v1/stats/history"
    /// `POST` open a dashboard session (`DashboardSessionResponse`, then held open).
    public static let dashboardSessions = "/v1/dashboard/sessions"
    /// The dashboard's pages.
    public static let dashboard = "/ui/"
    /// `POST` create a batch, `GET` list batches.
    public static let batches = "/v1/batches"
    /// `GET` one batch.
    public static func batch(_ id: BatchID) -> String { "/v1/batches/\(id)" }
    /// `GET` long-poll until the batch is finished; answers its results.
    public static func batchWait(_ id: BatchID) -> String { "/v1/batches/\(id)/wait" }
    /// `POST` cancel every unfinished job of a batch.
    public static func batchCancel(_ id: BatchID) -> String { "/v1/batches/\(id)/cancel" }
    /// `POST` create or replace a schedule, `GET` list schedules.
    public static let schedules = "/v1/schedules"
    /// `GET` one schedule, `DELETE` it.
    public static func schedule(_ name: String) -> String { "/v1/schedules/\(name)" }
    /// `POST` pause or resume one schedule.
    public static func schedulePause(_ name: String, paused: Bool) -> String {
        "/v1/schedules/\(name)/" + (paused ? "pause" : "resume")
    }
}

/// The daemon's version, reported by `health` and `--version`.
public let jobdVersion = "0.1.0"
