/// One host's token bucket, as GCRA (the generic cell rate algorithm): a single instant,
/// the theoretical arrival time, instead of a token count and a refill timer.
///
/// A reservation at `now` may start at `max(now, tat - tolerance)`, where `tolerance` is
/// `(burst - 1) * interval`; it moves `tat` to `max(tat, now) + interval`. So a full
/// bucket lets `burst` reservations start at once, and later ones are spaced `interval`
/// apart: with `20/s`, 20 start at once, then one every 50 ms. A bucket whose `tat` has
/// passed is full again, the same as a new one.
///
/// Reservations never fail: the caller decides how far ahead it accepts them
/// (`HostRateLimiter`).
struct TokenBucket: Sendable, Hashable {
    /// The theoretical arrival time: when the last reservation's token would have been
    /// earned had every reservation so far come exactly one interval apart. Once it has
    /// passed, the bucket is full.
    private(set) var theoreticalArrival: ContinuousClock.Instant

    /// A full bucket at `now`.
    init(now: ContinuousClock.Instant) {
        theoreticalArrival = now
    }

    /// When a reservation made at `now` would start: `now` while the burst lasts.
    func nextStart(rate: RateLimit, now: ContinuousClock.Instant) -> ContinuousClock.Instant {
        max(now, theoreticalArrival - Self.tolerance(of: rate))
    }

    /// Takes the next token: the instant the caller may start, `now` or later.
    mutating func reserve(rate: RateLimit, now: ContinuousClock.Instant) -> ContinuousClock.Instant {
        let start = nextStart(rate: rate, now: now)
        theoreticalArrival = max(theoreticalArrival, now) + rate.interval
        return start
    }

    /// True when the bucket is as full as a new one at `now`, so it can be forgotten.
    func isFull(at now: ContinuousClock.Instant) -> Bool {
        theoreticalArrival <= now
    }

    /// How far ahead of `tat` a reservation may start: the burst beyond the first token.
    static func tolerance(of rate: RateLimit) -> Duration {
        rate.interval * (rate.burst - 1)
    }
}
