/// The token buckets of every rate-limited fetch host, and how far ahead they may be
/// booked: a value type inside the dispatcher's state, under its lock.
///
/// A host's reservations may reach `reach(of:)` ahead of now: two seconds, or one interval
/// for a rate slower than one every two seconds (so a slow host still has one job waiting,
/// visible in `jobctl status`); a claimed job that would start later goes back to the
/// queue. A host booked more than half its reach ahead is *saturated*: claims skip it
/// until it is booked less far ahead than that, so each claim that takes its jobs has room
/// for half a reach of them (at `20/s`, 20) instead of taking a slot's worth and sending
/// all but one back. A slow host (one token every 2 s or less often) has room for one job
/// at most, so it is saturated only when booked beyond its whole reach. A backlog of
/// 100,000 fetches to a `1/s` host stays in the database, not in memory, and holds up no
/// other host.
struct HostRateLimiter: Sendable {
    /// How far ahead reservations may reach, at least.
    static let horizon: Duration = .seconds(2)

    /// Which host has which rate.
    private(set) var table: HostRateTable
    private var buckets: [String: TokenBucket] = [:]
    /// Forget full buckets once this many exist (then at twice the survivors).
    private var pruneThreshold = 1024

    init(table: HostRateTable) {
        self.table = table
    }

    /// Hosts with a bucket, for tests.
    var bucketCount: Int { buckets.count }

    /// The rate of a fetch's `host:port`, if it has one.
    func rate(for host: String?) -> RateLimit? {
        guard let host, !table.isEmpty else { return nil }
        return table.rate(for: host)
    }

    /// How far ahead of now a host's reservations may reach.
    static func reach(of rate: RateLimit) -> Duration {
        max(horizon, rate.interval)
    }

    /// How far ahead of now a host may be booked and still be claimed: half its reach, or
    /// all of it for a slow host.
    static func claimableReach(of rate: RateLimit) -> Duration {
        rate.interval >= horizon ? reach(of: rate) : reach(of: rate) / 2
    }

    /// True when a reservation for `host` made at `now` would start within its reach.
    func admits(host: String, rate: RateLimit, now: ContinuousClock.Instant) -> Bool {
        guard let bucket = buckets[host] else { return true }
        return bucket.nextStart(rate: rate, now: now) - now <= Self.reach(of: rate)
    }

    /// Takes a token of `host`'s bucket: the instant its job may start, `now` or later.
    mutating func reserve(host: String, rate: RateLimit, now: ContinuousClock.Instant) -> ContinuousClock.Instant {
        if buckets.count >= pruneThreshold {
            buckets = buckets.filter { !$0.value.isFull(at: now) }
            pruneThreshold = max(1024, buckets.count * 2)
        }
        return buckets[host, default: TokenBucket(now: now)].reserve(rate: rate, now: now)
    }

    /// The hosts booked further ahead at `now` than `claimableReach(of:)`, which the next
    /// claim skips, and the earliest instant one of them is claimable again (to wake the
    /// loop then).
    func saturated(at now: ContinuousClock.Instant) -> (hosts: Set<String>, reopensAt: ContinuousClock.Instant?) {
        var hosts: Set<String> = []
        var reopensAt: ContinuousClock.Instant?
        for (host, bucket) in buckets where !bucket.isFull(at: now) {
            guard let rate = table.rate(for: host) else { continue }
            let claimable = Self.claimableReach(of: rate)
            let next = bucket.nextStart(rate: rate, now: now)
            guard next - now > claimable else { continue }
            hosts.insert(host)
            reopensAt = min(reopensAt ?? next - claimable, next - claimable)
        }
        return (hosts, reopensAt)
    }

    /// Takes a new table (a reload). A host whose rate changed starts over with a full
    /// bucket; jobs already waiting keep the start they were given.
    mutating func setTable(_ newTable: HostRateTable) {
        let old = table
        table = newTable
        buckets = buckets.filter { host, _ in
            let rate = newTable.rate(for: host)
            return rate != nil && rate == old.rate(for: host)
        }
    }
}
