import Foundation

/// The answer to `POST /v1/dashboard/sessions`: a token for the web dashboard.
///
/// The token is bound to the uid that asked (its socket peer) and lives as long as the
/// request that created it: jobd writes this body, keeps the response open, and revokes
/// the token when the connection closes (the `jobctl dashboard` process ended) or jobd
/// stops.
public struct DashboardSessionResponse: Codable, Hashable, Sendable {
    /// The secret to put in the dashboard URL (`/ui/?token=…`); it can be exchanged for a
    /// cookie once.
    public var token: String
    /// The uid the token acts as.
    public var uid: UInt32

    public init(token: String, uid: UInt32) {
        self.token = token
        self.uid = uid
    }

    enum CodingKeys: String, CodingKey {
        case token
        case uid
    }
}

/// One minute of the daemon's figures, as `GET /v1/stats/history` shows it.
public struct StatsSample: Codable, Hashable, Sendable {
    /// When the sample was taken (the end of its minute).
    public var time: Date
    /// Jobs accepted during the minute, by this daemon.
    public var submitted: Int
    /// Attempts finished during the minute, by this daemon.
    public var finished: Int
    /// Jobs that became `failed` during the minute (the change of the failed count, never
    /// below 0).
    public var failed: Int
    /// Jobs queued when the sample was taken.
    public var queued: Int
    /// Jobs running when the sample was taken.
    public var running: Int

    public init(time: Date, submitted: Int, finished: Int, failed: Int, queued: Int, running: Int) {
        self.time = time
        self.submitted = submitted
        self.finished = finished
        self.failed = failed
        self.queued = queued
        self.running = running
    }

    enum CodingKeys: String, CodingKey {
        case time
        case submitted
        case finished
        case failed
        case queued
        case running
    }
}

/// The answer to `GET /v1/stats/history`: the last hour, one sample a minute, oldest first.
///
/// jobd keeps the samples in memory only: after a restart the history starts again.
public struct StatsHistoryResponse: Codable, Hashable, Sendable {
    /// Seconds between samples (60).
    public var intervalSeconds: Double
    /// The samples, oldest first, at most 60.
    public var samples: [StatsSample]
    /// The minute in progress: what happened since the last sample, and the queued and
    /// running counts now; nil (absent) before the first sample.
    public var current: StatsSample?

    public init(intervalSeconds: Double, samples: [StatsSample], current: StatsSample? = nil) {
        self.intervalSeconds = intervalSeconds
        self.samples = samples
        self.current = current
    }

    enum CodingKeys: String, CodingKey {
        case intervalSeconds = "interval_seconds"
        case samples
        case current
    }
}
