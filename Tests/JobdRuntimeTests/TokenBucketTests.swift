import Testing

@testable import JobdRuntime

/// The GCRA bucket and the per-host limiter on injected instants: no clock runs, nothing
/// sleeps.
@Suite struct TokenBucketTests {
    let t0 = ContinuousClock.now

    func rate(_ text: String) throws -> RateLimit {
        try RateLimit(parsing: text)
    }

    @Test("20/s: a burst of 20 at once, then one every 50 ms; the 200th starts 9 s after the first")
    func burstThenSpacing() throws {
        let rate = try rate("20/s")
        var bucket = TokenBucket(now: t0)
        let starts = (0..<200).map { _ in bucket.reserve(rate: rate, now: t0) }
        #expect(starts.prefix(20).allSatisfy { $0 == t0 })
        for index in 20..<200 {
            #expect(starts[index] == t0 + .milliseconds(50) * (index - 19), "reservation \(index)")
        }
        #expect(starts[199] - t0 == .seconds(9))
    }

    @Test("the bucket refills at the rate: after a pause the burst is back, up to one second's worth")
    func refill() throws {
        let rate = try rate("10/s")
        var bucket = TokenBucket(now: t0)
        for _ in 0..<10 { #expect(bucket.reserve(rate: rate, now: t0) == t0) }
        // 300 ms later 3 tokens have come back: 3 start at once, the 4th waits 100 ms.
        let later = t0 + .milliseconds(300)
        for _ in 0..<3 { #expect(bucket.reserve(rate: rate, now: later) == later) }
        #expect(bucket.reserve(rate: rate, now: later) == later + .milliseconds(100))
        // Idle for a minute: full again, never fuller than the burst.
        let idle = t0 + .seconds(60)
        #expect(bucket.isFull(at: idle))
        for _ in 0..<10 { #expect(bucket.reserve(rate: rate, now: idle) == idle) }
        #expect(bucket.reserve(rate: rate, now: idle) == idle + .milliseconds(100))
    }

    @Test("a rate under one a second has a burst of one; 600/m is 10/s")
    func slowRates() throws {
        let half = try rate("0.5/s")
        #expect(half.burst == 1)
        var bucket = TokenBucket(now: t0)
        #expect(bucket.reserve(rate: half, now: t0) == t0)
        #expect(bucket.reserve(rate: half, now: t0) == t0 + .seconds(2))
        #expect(bucket.reserve(rate: half, now: t0 + .seconds(1)) == t0 + .seconds(4))
        let perMinute = try rate("600/m")
        #expect(perMinute.burst == 10)
        #expect(perMinute.interval == .milliseconds(100))
        #expect(try rate("2/h").interval == .seconds(1800))
    }

    @Test("reservations never start earlier than the rate allows, however they are spread")
    func neverFasterThanTheRate() throws {
        let rate = try rate("7/s")
        var bucket = TokenBucket(now: t0)
        var starts: [ContinuousClock.Instant] = []
        var now = t0
        for step in 0..<500 {
            now = now + .milliseconds([0, 3, 40, 170, 0, 1][step % 6])
            starts.append(bucket.reserve(rate: rate, now: now))
        }
        starts.sort()
        // Token bucket conformance: start i+burst+k comes at least k+1 intervals after start i.
        for k in 0..<10 {
            for index in (rate.burst + k)..<starts.count {
                let first = index - rate.burst - k
                let span = starts[index] - starts[first]
                #expect(span >= rate.interval * (k + 1), "starts \(first)...\(index) span \(span)")
            }
        }
    }

    @Test("the limiter books a host up to two seconds ahead (one interval for slow rates); claims skip it past half")
    func reachAndSaturation() throws {
        let table = try HostRateTable(
            perHost: nil, hosts: ["a.test:80": try rate("20/s"), "slow.test": try rate("1/m")])
        var limiter = HostRateLimiter(table: table)
        let fast = try #require(limiter.rate(for: "a.test:80"))
        var booked = 0
        while limiter.admits(host: "a.test:80", rate: fast, now: t0) {
            _ = limiter.reserve(host: "a.test:80", rate: fast, now: t0)
            booked += 1
        }
        // 20 at once, then 40 more up to 2 s ahead (the one at exactly 2 s included).
        #expect(booked == 60)
        let saturated = limiter.saturated(at: t0)
        #expect(saturated.hosts == ["a.test:80"])
        // Claimable again once its next start is 1 s (half the reach) away: a claim then
        // has room for 20 of its jobs.
        #expect(saturated.reopensAt == t0 + .milliseconds(1050))
        #expect(limiter.saturated(at: t0 + .milliseconds(1049)).hosts == ["a.test:80"])
        #expect(limiter.saturated(at: t0 + .milliseconds(1050)).hosts.isEmpty)

        let slow = try #require(limiter.rate(for: "slow.test:8080"))
        #expect(limiter.reserve(host: "slow.test:8080", rate: slow, now: t0) == t0)
        #expect(limiter.admits(host: "slow.test:8080", rate: slow, now: t0))
        #expect(limiter.reserve(host: "slow.test:8080", rate: slow, now: t0) == t0 + .seconds(60))
        #expect(!limiter.admits(host: "slow.test:8080", rate: slow, now: t0))
        #expect(limiter.saturated(at: t0).hosts == ["a.test:80", "slow.test:8080"])
        // Its next token is 2 minutes out; a slow host is claimable once that is within
        // its whole reach (a minute), as it has room for one job at most.
        #expect(limiter.saturated(at: t0 + .seconds(59)).hosts == ["slow.test:8080"])
        #expect(limiter.saturated(at: t0 + .seconds(60)).hosts.isEmpty)
        #expect(limiter.rate(for: "b.test:80") == nil)
        #expect(limiter.rate(for: nil) == nil)
    }

    @Test("a new table restarts the buckets of hosts whose rate changed and keeps the others")
    func reload() throws {
        let table = try HostRateTable(perHost: try rate("1/s"), hosts: ["a.test": try rate("1/s")])
        var limiter = HostRateLimiter(table: table)
        let one = try rate("1/s")
        _ = limiter.reserve(host: "a.test:80", rate: one, now: t0)
        _ = limiter.reserve(host: "b.test:80", rate: one, now: t0)
        #expect(limiter.bucketCount == 2)
        limiter.setTable(try HostRateTable(perHost: try rate("1/s"), hosts: ["a.test": try rate("5/s")]))
        #expect(limiter.bucketCount == 1)
        // b.test kept its bucket: its next token is a second away.
        #expect(limiter.reserve(host: "b.test:80", rate: one, now: t0) == t0 + .seconds(1))
        limiter.setTable(HostRateTable())
        #expect(limiter.bucketCount == 0)
        #expect(limiter.rate(for: "b.test:80") == nil)
    }
}
