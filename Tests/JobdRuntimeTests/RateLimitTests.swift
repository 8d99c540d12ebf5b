import Foundation
import JobdModel
import JobdRuntime
import JobdStore
import JobdStoreSQLite
import Synchronization
import Testing

/// Fetches waiting for their host's rate limit, on a real store with a recording executor:
/// they hold no worker slot, hold up no other host, and a cancel, a shutdown or the limits
/// of a claim still reach them.
@Suite struct RateLimitTests {
    static func options(workers: Int, _ rates: [String: String], perHost: String? = nil) throws -> RuntimeOptions {
        let table = try HostRateTable(
            perHost: try perHost.map { try RateLimit(parsing: $0) },
            hosts: try rates.mapValues { try RateLimit(parsing: $0) })
        return RuntimeOptions(workers: workers, hostRates: table)
    }

    @Test("2/s: a burst of 2, then one every 500 ms; another host's fetches run meanwhile")
    func spacingAndOtherHosts() async throws {
        let executor = RecordingFetchExecutor()
        let options = try Self.options(workers: 2, ["a.test": "2/s"])
        try await withTestDispatcher(options: options, executors: [.fetch: executor]) { test in
            let submitted = ContinuousClock.now
            let slow = try await test.submit((0..<8).map { .fetch("http://a.test/\($0)") })
            let fast = try await test.submit((0..<10).map { .fetch("http://b.test/\($0)") })
            try await test.eventually("a.test's 8 fetches start") {
                let statistics = test.dispatcher.statistics
                // Waits hold no slot: never more than the worker limit hold one.
                #expect(statistics.running <= 2)
                // b.test has no rate: none of its fetches ever waits for a token.
                for id in fast { #expect(test.dispatcher.rateLimitWait(of: id) == nil) }
                return executor.starts(of: "a.test:80").count == 8
            }
            for id in slow + fast {
                #expect(try await test.waitTerminal(id).state == .succeeded)
            }
            // Whether any fetch had to wait depends on how far apart the claims came (two
            // workers: a loaded machine can space them past the tokens), so it is printed,
            // not asserted; `noSlotWhileWaiting` makes a wait certain.
            let starts = executor.starts(of: "a.test:80")
            // Token i (from 2 on) is due (i - 1) x 500 ms after the first reservation, which
            // came after the submit: exact lower bounds (the starts themselves may be late).
            for index in 2..<8 {
                let startedIn = starts[index] - submitted
                #expect(
                    startedIn >= .milliseconds(500) * (index - 1), "a.test's fetch \(index) started \(startedIn) in")
            }
            // b.test is not held up (no wall-clock bound: a loaded machine may be slow to run
            // them; what matters is that none of them waited for a token, checked above).
            let lastFast = try #require(executor.starts(of: "b.test:80").last)
            print(
                "RateLimitTests: b.test's last fetch \(lastFast - submitted), a.test's last \(starts[7] - submitted), "
                    + "\(test.dispatcher.statistics.rateLimitWaits) waits")
            #expect(test.dispatcher.statistics.rateLimited == 0)
        }
    }

    @Test("a waiting fetch holds no slot: with one worker, other hosts' fetches run while it waits")
    func noSlotWhileWaiting() async throws {
        let executor = RecordingFetchExecutor()
        let options = try Self.options(workers: 1, ["a.test": "1/m"])
        try await withTestDispatcher(options: options, executors: [.fetch: executor]) { test in
            let slow = try await test.submit([.fetch("http://a.test/1"), .fetch("http://a.test/2")])
            try await test.eventually("the second a.test fetch waits") { test.dispatcher.statistics.rateLimited == 1 }
            let wait = try #require(test.dispatcher.rateLimitWait(of: slow[1]))
            #expect(wait.host == "a.test:80")
            #expect(wait.startsAt.timeIntervalSinceNow > 50)
            #expect(test.dispatcher.rateLimitWait(of: slow[0]) == nil)
            #expect(test.dispatcher.statistics.rateLimitWaits == 1)
            let others = try await test.submit((0..<5).map { .fetch("http://b.test/\($0)") })
            for id in others {
                #expect(try await test.waitTerminal(id).state == .succeeded)
            }
            #expect(test.dispatcher.statistics.rateLimited == 1)
            #expect(try await test.store.job(slow[1])?.state == .running)
            // Cancel it: it ends cancelled without ever starting.
            #expect(try await test.dispatcher.cancel(slow[1]) == .running)
            let record = try await test.waitTerminal(slow[1])
            #expect(record.state == .cancelled)
            #expect(record.error?.message == "cancelled by request while waiting for the rate limit of a.test:80")
            #expect(record.attempts?.map(\.outcome) == [.cancelled])
            #expect(executor.recorded.map(\.jobID).contains(slow[1]) == false)
            #expect(test.dispatcher.statistics.rateLimited == 0)
            #expect(test.dispatcher.rateLimitWait(of: slow[1]) == nil)
            // One worker: the wait and its cancelled end never took the slot.
            #expect(test.dispatcher.statistics.maxRunning == 1)
        }
    }

    @Test("a claim books a host at most two seconds ahead; the rest of its backlog stays queued")
    func boundedBacklog() async throws {
        let executor = RecordingFetchExecutor()
        let options = try Self.options(workers: 8, [:], perHost: "1/s")
        try await withTestDispatcher(options: options, executors: [.fetch: executor]) { test in
            let ids = try await test.submit((0..<50).map { .fetch("http://a.test/\($0)") })
            // Tokens at +1 s and +2 s wait in memory; the 47 others stay in the database. All
            // read in one look, before the +1 s token starts its fetch (a loaded machine may
            // take long to get here, and the token does not wait for the test).
            // Read in one look: a moment with two waits and every other unstarted job back in
            // the queue. (The look recurs: each claim books the host two seconds ahead
            // again, so a loaded machine that misses the first one sees a later one.)
            let waits = Mutex<[RateLimitWait]>([])
            try await test.eventually("two fetches wait and the over-reach claims went back") {
                let started = executor.recorded.count
                let seen = ids.compactMap { test.dispatcher.rateLimitWait(of: $0) }
                let counts = try await test.store.counts()
                guard executor.recorded.count == started, seen.count == 2,
                    test.dispatcher.statistics.rateLimited == 2
                else { return false }
                waits.withLock { $0 = seen }
                return started >= 1 && counts.queued + started + 2 == 50
            }
            #expect(waits.withLock { $0 }.allSatisfy { $0.host == "a.test:80" })
        }
    }

    @Test("a graceful shutdown puts waiting fetches back in the queue without using an attempt")
    func shutdownReleasesWaits() async throws {
        let executor = RecordingFetchExecutor()
        let options = try Self.options(workers: 2, ["a.test:80": "1/m"])
        try await withTestDispatcher(options: options, executors: [.fetch: executor]) { test in
            let ids = try await test.submit([.fetch("http://a.test/1"), .fetch("http://a.test/2")])
            #expect(try await test.waitTerminal(ids[0]).state == .succeeded)
            try await test.eventually("the second fetch waits") { test.dispatcher.statistics.rateLimited == 1 }
            test.dispatcher.beginShutdown()
            try await test.eventually("the dispatch loop ends") { !test.dispatcher.isLoopRunning }
            let record = try #require(try await test.store.job(ids[1]))
            #expect(record.state == .queued)
            #expect(record.attemptCount == 0)
            #expect(record.attempts ?? [] == [])
            #expect(executor.recorded.count == 1)
            #expect(test.dispatcher.statistics.rateLimited == 0)
        }
    }
}
