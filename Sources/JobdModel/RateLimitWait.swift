import Foundation

/// A claimed fetch waiting for its host's rate limit (`limits.per_host_rate`,
/// `limits.host_rates`): it holds no worker slot until `startsAt`.
///
/// `GET /v1/jobs/{id}` and `wait` carry it as `rate_limit` while the job waits; it is
/// absent once the attempt really starts, and absent in lists. The node holding the job
/// is the only one that knows it: on PostgreSQL with many nodes, a request to another
/// node shows the job `running` without it.
public struct RateLimitWait: Codable, Hashable, Sendable {
    /// The `host:port` whose rate the job waits for.
    public var host: String
    /// When its token is due: the attempt starts then, or as soon after as a worker slot
    /// is free.
    public var startsAt: Date

    public init(host: String, startsAt: Date) {
        self.host = host
        self.startsAt = startsAt
    }

    enum CodingKeys: String, CodingKey {
        case host
        case startsAt = "starts_at"
    }
}
