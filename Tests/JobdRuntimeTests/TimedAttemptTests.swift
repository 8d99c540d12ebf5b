import Foundation
import JobdModel
import JobdRuntime
import JobdStore
import JobdStoreSQLite
import Testing

/// Delay jobs run from the dispatcher's deadline heap (`TimedJobExecutor`), without a
/// task each; these pin that path's cancel, timeout, shutdown and ordering behaviour.
@Suite struct TimedAttemptTests {
    @Test("a running delay is cancelled at once and records cancelled")
    func cancelTimed() async throws {
        try await withTestDispatcher { test in
            let id = try #require(try await test.submit([.delay(60)]).first)
            try await test.eventually("the job starts") { try await test.store.job(id)?.state == .running }
            #expect(try await test.dispatcher.cancel(id) == .running)
            let record = try await test.waitTerminal(id)
            // Stopped, not run out: the attempt ended long before the delay's 60 s (half of
            // it leaves room for a machine many times slower than this one).
            let attempt = try #require(record.attempts?.first)
            let ran = try #require(attempt.finishedAt).timeIntervalSince(attempt.startedAt)
            #expect(ran < 30, "the cancelled attempt ran \(ran) s")
            #expect(record.state == .cancelled)
            #expect(record.attempts?.map(\.outcome) == [.cancelled])
            #expect(test.dispatcher.statistics.running == 0)
        }
    }

    @Test("a delay longer than its timeout fails with timeout at the timeout")
    func timeoutTimed() async throws {
        try await withTestDispatcher { test in
            var spec = JobSpec.delay(60)
            spec.timeout = 0.2
            let submitted = ContinuousClock.now
            let id = try #require(try await test.submit([spec]).first)
            let record = try await test.waitTerminal(id)
            #expect(ContinuousClock.now - submitted >= .milliseconds(200))
            #expect(record.state == .failed)
            #expect(record.error?.code == .timeout)
        }
    }

    @Test("delays end in deadline order, each no sooner than its seconds")
    func deadlineOrder() async throws {
        try await withTestDispatcher(options: RuntimeOptions(workers: 10)) { test in
            let seconds = [0.4, 0.1, 0.3, 0, 0.2]
            let ids = try await test.submit(seconds.map { JobSpec.delay($0) })
            var finished: [(Double, Date)] = []
            for (id, wait) in zip(ids, seconds) {
                let record = try await test.waitTerminal(id)
                #expect(record.state == .succeeded)
                let attempt = try #require(record.attempts?.first)
                let end = try #require(attempt.finishedAt)
                // The recorded times are rounded to milliseconds.
                #expect(end.timeIntervalSince(attempt.startedAt) >= wait - 0.002)
                finished.append((wait, end))
            }
            let order = finished.sorted { $0.1 < $1.1 }.map(\.0)
            #expect(order == seconds.sorted())
        }
    }

    @Test("a thousand concurrent delays all run at once")
    func manyTimed() async throws {
        let options = RuntimeOptions(workers: 1000, shutdownGrace: .milliseconds(100))
        try await withTestDispatcher(options: options) { test in
            // Delays far longer than any claim round could take, so the property (all 1000
            // running at one moment) does not depend on the machine's speed; the shutdown
            // at the end interrupts them.
            let ids = try await test.submit(Array(repeating: JobSpec.delay(3600), count: 1000))
            try await test.eventually("1000 jobs run", timeout: .seconds(120)) {
                test.dispatcher.statistics.running == 1000
            }
            #expect(test.dispatcher.statistics.maxRunning == 1000)
            #expect(try await test.store.counts().running == 1000)
            #expect(try await test.store.job(ids[999])?.state == .running)
        }
    }

    @Test("shutdown lets short delays finish and interrupts long ones after the grace period")
    func shutdownTimed() async throws {
        let options = RuntimeOptions(workers: 10, shutdownGrace: .seconds(2))
        let (short, long, store) = try await withTestDispatcher(options: options) { test in
            let short = try await test.submit(Array(repeating: JobSpec.delay(0.3), count: 3))
            let long = try await test.submit(Array(repeating: JobSpec.delay(60), count: 3))
            for id in long {
                try await test.eventually("job \(id) starts") { try await test.store.job(id)?.state == .running }
            }
            return (short, long, test.store)
        }
        for id in short {
            #expect(try await store.job(id)?.state == .succeeded)
        }
        for id in long {
            let record = try #require(try await store.job(id))
            #expect(record.state == .queued)
            #expect(record.attempts?.map(\.outcome) == [.interrupted])
        }
    }

    @Test("a run_at centuries ahead arms a bounded timer and the dispatcher keeps working")
    func farFutureRunAt() async throws {
        try await withTestDispatcher { test in
            var far = JobSpec.delay(0)
            far.runAt = Date().addingTimeInterval(300 * 365 * 86_400)
            let farID = try #require(try await test.submit([far]).first)
            let id = try #require(try await test.submit([.delay(0)]).first)
            #expect(try await test.waitTerminal(id).state == .succeeded)
            #expect(try await test.store.job(farID)?.state == .queued)
        }
    }
}
