import Foundation
import JobdModel
import JobdRuntime
import JobdStore
import JobdStoreSQLite
import Synchronization
import Testing

/// An executor that counts concurrency per host and holds jobs of one host until released.
final class HostGateExecutor: JobExecutor {
    private let state = Mutex((running: [String: Int](), highest: [String: Int](), finished: [String: Int]()))
    private let gate = AsyncStream<Void>.makeStream(bufferingPolicy: .unbounded)
    let heldHost: String
    private let released = Mutex(false)

    init(holding host: String) { heldHost = host }

    func highest(_ host: String) -> Int { state.withLock { $0.highest[host, default: 0] } }
    func running(_ host: String) -> Int { state.withLock { $0.running[host, default: 0] } }
    func finished(_ host: String) -> Int { state.withLock { $0.finished[host, default: 0] } }

    /// Lets every held job finish.
    func release() {
        released.withLock { $0 = true }
        gate.continuation.finish()
    }

    func execute(_ job: ClaimedJob) async throws -> JobResult {
        guard case .fetch(let fetch) = job.spec.payload, let host = fetch.hostKey else {
            throw ExecutionFailure(.internal, "not a fetch")
        }
        state.withLock {
            $0.running[host, default: 0] += 1
            $0.highest[host] = max($0.highest[host, default: 0], $0.running[host, default: 0])
        }
        defer {
            state.withLock {
                $0.running[host, default: 1] -= 1
                $0.finished[host, default: 0] += 1
            }
        }
        if host == heldHost, !released.withLock({ $0 }) {
            for await _ in gate.stream {}
        }
        return .delay(DelayResult(value: .string(host)))
    }
}

extension JobSpec {
    static func fetch(_ url: String) -> JobSpec { JobSpec(.fetch(FetchSpec(url: url))) }
}

@Suite struct LifecycleTests {
    @Test("a per-kind limit caps that kind below the global limit")
    func kindLimit() async throws {
        let counting = CountingExecutor(DelayExecutor())
        let options = RuntimeOptions(workers: 8, kindLimits: [.delay: 2])
        try await withTestDispatcher(options: options, executors: [.delay: counting]) { test in
            let ids = try await test.submit((0..<10).map { _ in .delay(0.02) })
            for id in ids { #expect(try await test.waitTerminal(id).state == .succeeded) }
            #expect(counting.highest == 2)
        }
    }

    @Test("a per-host limit holds a slow host at its limit while other hosts proceed")
    func hostLimit() async throws {
        let executor = HostGateExecutor(holding: "slow.test:80")
        let options = RuntimeOptions(workers: 8, hostLimit: 2)
        try await withTestDispatcher(options: options, executors: [.fetch: executor]) { test in
            let slow = try await test.submit((0..<10).map { _ in .fetch("http://slow.test/x") })
            let fast = try await test.submit((0..<5).map { _ in .fetch("http://fast.test/y") })
            for id in fast { #expect(try await test.waitTerminal(id).state == .succeeded) }
            try await test.eventually("two slow fetches run") { executor.running("slow.test:80") == 2 }
            #expect(executor.finished("slow.test:80") == 0)
            executor.release()
            for id in slow { #expect(try await test.waitTerminal(id).state == .succeeded) }
            #expect(executor.highest("slow.test:80") == 2)
            // Released claims leave no attempt behind: one attempt each.
            for id in slow { #expect(try await test.store.job(id)?.attempts?.count == 1) }
        }
    }

    @Test("a paused dispatcher starts nothing until resumed")
    func pauseResume() async throws {
        try await withTestDispatcher { test in
            try await test.dispatcher.pause()
            let id = try #require(try await test.submit([.delay(0)]).first)
            #expect(try await test.store.job(id)?.state == .queued)
            let resumed = Date()
            try await test.dispatcher.resume()
            let record = try await test.waitTerminal(id)
            let started = try #require(record.attempts?.first?.startedAt)
            #expect(started >= resumed.addingTimeInterval(-0.001))
        }
    }

    @Test("max_queued refuses a submit past the cap, storing nothing of it")
    func maxQueued() async throws {
        try await withTestDispatcher(options: RuntimeOptions(maxQueued: 5)) { test in
            try await test.dispatcher.pause()
            _ = try await test.submit((0..<4).map { _ in .delay(0) })
            await #expect(throws: DispatchError.self) { try await test.submit([.delay(0), .delay(0)]) }
            #expect(try await test.store.counts().queued == 4)
            _ = try await test.submit([.delay(0)])
            let error = await #expect(throws: DispatchError.self) { try await test.submit([.delay(0)]) }
            #expect(error?.code == .queueFull)
            #expect(try await test.store.counts().queued == 5)
        }
    }

    @Test("events of a 3-attempt failing job arrive in order")
    func eventOrder() async throws {
        let options = RuntimeOptions(retryBase: .milliseconds(5), retryCap: .milliseconds(20))
        try await withTestDispatcher(options: options) { test in
            let subscription = test.events.subscribe()
            defer { test.events.unsubscribe(subscription) }
            var spec = JobSpec.delay(0, fail: "boom")
            spec.maxAttempts = 3
            let id = try #require(try await test.submit([spec]).first)
            var types: [JobEventType] = []
            var ids: [UInt64] = []
            // The deadline turns a lost event into a failure instead of a hang.
            let deadline = Task {
                try await Task.sleep(for: .seconds(10))
                test.events.unsubscribe(subscription)
            }
            defer { deadline.cancel() }
            for await event in subscription.events where event.jobID == id {
                types.append(event.type)
                ids.append(event.id)
                if event.type == .failed { break }
            }
            #expect(
                types == [
                    .submitted, .started, .attemptFailed, .retryScheduled, .started, .attemptFailed, .retryScheduled,
                    .started, .attemptFailed, .failed,
                ])
            #expect(ids == ids.sorted())
        }
    }

    @Test("retry re-queues a finished job with a fresh budget; a queued job cannot be retried")
    func retry() async throws {
        try await withTestDispatcher { test in
            let id = try #require(try await test.submit([.delay(0, fail: "boom")]).first)
            #expect(try await test.waitTerminal(id).state == .failed)
            try await test.dispatcher.retry(id)
            try await test.eventually("the retried job fails again") {
                let record = try await test.store.job(id)
                return record?.attempts?.count == 2 && record?.state == .failed
            }
            try await test.dispatcher.pause()
            let queued = try #require(try await test.submit([.delay(0)]).first)
            let error = await #expect(throws: DispatchError.self) { try await test.dispatcher.retry(queued) }
            #expect(error?.code == .invalidState)
            try await test.dispatcher.resume()
        }
    }

    @Test("Retry-After from the server delays the retry at least that long")
    func retryAfter() async throws {
        let executor = RetryAfterExecutor(retryAfter: .milliseconds(400))
        let options = RuntimeOptions(retryBase: .milliseconds(1), retryCap: .milliseconds(2))
        try await withTestDispatcher(options: options, executors: [.delay: executor]) { test in
            var spec = JobSpec.delay(0)
            spec.maxAttempts = 2
            let id = try #require(try await test.submit([spec]).first)
            try await test.eventually("the second attempt ends") {
                try await test.store.job(id)?.state == .succeeded
            }
            let attempts = try #require(try await test.store.job(id)?.attempts)
            let gap = attempts[1].startedAt.timeIntervalSince(try #require(attempts[0].finishedAt))
            #expect(gap >= 0.39)
        }
    }

    @Test("prune deletes finished jobs older than the age and keeps the rest")
    func prune() async throws {
        try await withTestDispatcher { test in
            let done = try #require(try await test.submit([.delay(0)]).first)
            _ = try await test.waitTerminal(done)
            try await test.dispatcher.pause()
            let queued = try #require(try await test.submit([.delay(0)]).first)
            #expect(try await test.dispatcher.prune(olderThan: .seconds(3600)) == 0)
            #expect(try await test.dispatcher.prune(olderThan: .zero) == 1)
            #expect(try await test.store.job(done) == nil)
            #expect(try await test.store.job(queued) != nil)
            try await test.dispatcher.resume()
        }
    }
}

/// Fails the first attempt with a 503 and a Retry-After, then succeeds.
final class RetryAfterExecutor: JobExecutor {
    let retryAfter: Duration
    private let calls = Mutex(0)
    init(retryAfter: Duration) { self.retryAfter = retryAfter }

    func execute(_ job: ClaimedJob) async throws -> JobResult {
        let call = calls.withLock { count in
            count += 1
            return count
        }
        if call == 1 {
            throw ExecutionFailure(
                JobError(.httpStatus, "busy", httpStatus: 503), result: nil, retryAfter: retryAfter)
        }
        return .delay(DelayResult(value: "ok"))
    }
}

@Suite struct EventBroadcasterTests {
    @Test("a subscriber that stops reading is dropped as lagged without blocking publishers")
    func lagged() async throws {
        let broadcaster = EventBroadcaster(subscriberBuffer: 10)
        let subscription = broadcaster.subscribe()
        for index in 1...1000 {
            broadcaster.publish(.submitted, jobID: JobID(Int64(index)), state: .queued)
        }
        var received = 0
        for await _ in subscription.events { received += 1 }
        #expect(received == 10)
        #expect(subscription.isLagged)
        // A new subscriber is unaffected.
        let fresh = broadcaster.subscribe()
        broadcaster.publish(.started, jobID: 1, state: .running)
        var iterator = fresh.events.makeAsyncIterator()
        #expect(await iterator.next()?.type == .started)
        broadcaster.unsubscribe(fresh)
    }
}
