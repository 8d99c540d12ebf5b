import Foundation
import GRDB
import JobdModel
import JobdRuntime
import JobdStore
import JobdStoreSQLite
import Logging
import Synchronization
import Testing

@Suite struct DispatcherTests {
    @Test("the highest observed concurrency equals the worker limit, never more")
    func workerLimit() async throws {
        let counting = CountingExecutor(DelayExecutor())
        try await withTestDispatcher(options: RuntimeOptions(workers: 4), executors: [.delay: counting]) { test in
            let ids = try await test.submit((0..<40).map { _ in .delay(0.02) })
            for id in ids {
                #expect(try await test.waitTerminal(id).state == .succeeded)
            }
            #expect(counting.highest == 4)
            #expect(counting.total == 40)
            #expect(test.dispatcher.statistics.maxRunning == 4)
        }
    }

    @Test("a delay job returns its value after sleeping")
    func delayValue() async throws {
        try await withTestDispatcher { test in
            let id = try #require(try await test.submit([.delay(0.05, value: "Data 1")]).first)
            let record = try await test.waitTerminal(id)
            #expect(record.state == .succeeded)
            #expect(record.result == .delay(DelayResult(value: "Data 1")))
            #expect(record.attempts?.map(\.outcome) == [.succeeded])
        }
    }

    @Test("a delay with fail ends failed with job_failed and the message")
    func delayFail() async throws {
        try await withTestDispatcher { test in
            let id = try #require(try await test.submit([.delay(0, fail: "boom")]).first)
            let record = try await test.waitTerminal(id)
            #expect(record.state == .failed)
            #expect(record.error == JobError(.jobFailed, "boom"))
            #expect(record.attempts?.first?.error?.code == .jobFailed)
        }
    }

    @Test("cancelling a running job stops it at once and records cancelled")
    func cancelRunning() async throws {
        let hanging = HangingExecutor()
        try await withTestDispatcher(executors: [.delay: hanging]) { test in
            let id = try #require(try await test.submit([.delay(60)]).first)
            try await test.eventually("the job starts") { hanging.startedCount == 1 }
            #expect(try await test.dispatcher.cancel(id) == .running)
            let record = try await test.waitTerminal(id)
            // The hanging executor never returns by itself, so a terminal record at all means
            // the cancel reached the attempt; how fast is the bench's business, not this test's.
            #expect(record.state == .cancelled)
            #expect(record.error?.code == .cancelled)
            #expect(record.attempts?.map(\.outcome) == [.cancelled])
            await #expect(throws: DispatchError.self) { try await test.dispatcher.cancel(id) }
        }
    }

    @Test("cancelling a queued job never runs it")
    func cancelQueued() async throws {
        let hanging = HangingExecutor()
        try await withTestDispatcher(options: RuntimeOptions(workers: 1), executors: [.delay: hanging]) { test in
            let ids = try await test.submit([.delay(60), .delay(60)])
            try await test.eventually("the first job starts") { hanging.startedCount == 1 }
            #expect(try await test.dispatcher.cancel(ids[1]) == .cancelled)
            #expect(try await test.dispatcher.cancel(ids[0]) == .running)
            #expect(try await test.waitTerminal(ids[0]).state == .cancelled)
            let second = try await test.waitTerminal(ids[1])
            #expect(second.state == .cancelled)
            #expect(second.attempts == [])
            #expect(hanging.startedCount == 1)
        }
    }

    @Test("an attempt past its timeout fails with timeout")
    func timeout() async throws {
        try await withTestDispatcher(executors: [.delay: HangingExecutor()]) { test in
            var spec = JobSpec.delay(60)
            spec.timeout = 0.1
            let id = try #require(try await test.submit([spec]).first)
            let record = try await test.waitTerminal(id)
            #expect(record.state == .failed)
            #expect(record.error?.code == .timeout)
        }
    }

    @Test("a retryable failure is retried until max_attempts, each attempt recorded")
    func retries() async throws {
        let flaky = FlakyExecutor(failures: 10, error: JobError(.connectFailed, "refused"))
        let options = RuntimeOptions(workers: 2, retryBase: .milliseconds(10), retryCap: .milliseconds(50))
        try await withTestDispatcher(options: options, executors: [.delay: flaky]) { test in
            var spec = JobSpec.delay(0)
            spec.maxAttempts = 3
            let id = try #require(try await test.submit([spec]).first)
            try await test.eventually("three attempts are recorded") {
                try await test.store.job(id)?.state == .failed
            }
            let record = try #require(try await test.store.job(id))
            #expect(record.attempts?.count == 3)
            #expect(record.attempts?.allSatisfy { $0.error?.code == .connectFailed } == true)
            #expect(record.error?.code == .connectFailed)
        }
    }

    @Test("a failure that is not retryable fails at once despite attempts left")
    func notRetryable() async throws {
        let flaky = FlakyExecutor(failures: 10, error: JobError(.httpStatus, "not found", httpStatus: 404))
        try await withTestDispatcher(executors: [.delay: flaky]) { test in
            var spec = JobSpec.delay(0)
            spec.maxAttempts = 5
            let id = try #require(try await test.submit([spec]).first)
            let record = try await test.waitTerminal(id)
            #expect(record.state == .failed)
            #expect(record.attempts?.count == 1)
        }
    }

    @Test("a job due in the future starts when it is due, not before")
    func runAt() async throws {
        try await withTestDispatcher { test in
            var spec = JobSpec.delay(0)
            spec.runAt = Date().addingTimeInterval(0.3)
            let submitted = Date()
            let id = try #require(try await test.submit([spec]).first)
            let record = try await test.waitTerminal(id)
            let started = try #require(record.attempts?.first?.startedAt)
            #expect(started.timeIntervalSince(submitted) >= 0.29)
        }
    }

    @Test("shutdown interrupts jobs still running after the grace period and re-queues them")
    func shutdownRequeues() async throws {
        let hanging = HangingExecutor()
        let options = RuntimeOptions(workers: 2, shutdownGrace: .milliseconds(100))
        let (id, store) = try await withTestDispatcher(options: options, executors: [.delay: hanging]) { test in
            let id = try #require(try await test.submit([.delay(60)]).first)
            try await test.eventually("the job starts") { hanging.startedCount == 1 }
            return (id, test.store)
        }
        let record = try #require(try await store.job(id))
        #expect(record.state == .queued)
        #expect(record.attempts?.map(\.outcome) == [.interrupted])
        #expect(record.attempts?.first?.error?.code == .interrupted)
        await #expect(throws: DispatchError.self) {
            _ = try await Dispatcher(
                store: store, executors: [:], options: RuntimeOptions(), events: EventBroadcaster(),
                logger: .init(label: "x")
            ).submitAfterShutdown()
        }
    }
}

extension Dispatcher {
    /// Submits after a shutdown began: must answer shutting_down.
    fileprivate func submitAfterShutdown() async throws -> [InsertOutcome] {
        beginShutdown()
        return try await submit([.delay(0)])
    }
}

/// An executor that starts, waits for `open()`, then fails with a retryable error
/// (ignoring cancellation, like a request already past the point of no return).
final class GatedFailureExecutor: JobExecutor {
    private let flags = Mutex((started: false, returned: false))
    private let gate = AsyncStream<Void>.makeStream()
    var started: Bool { flags.withLock { $0.started } }
    var returned: Bool { flags.withLock { $0.returned } }

    func open() { gate.continuation.finish() }

    func execute(_ job: ClaimedJob) async throws -> JobResult {
        flags.withLock { $0.started = true }
        for await _ in gate.stream {}
        flags.withLock { $0.returned = true }
        throw ExecutionFailure(JobError(.connectFailed, "refused"))
    }
}

@Suite struct CancelRaceTests {
    @Test("a cancel answered running wins over the retry its attempt reached at the same moment")
    func cancelWhileEndIsWritten() async throws {
        let executor = GatedFailureExecutor()
        let options = RuntimeOptions(workers: 2, retryBase: .milliseconds(10), retryCap: .milliseconds(20))
        try await withTestDispatcher(options: options, executors: [.delay: executor]) { test in
            var spec = JobSpec.delay(0)
            spec.maxAttempts = 3
            let id = try #require(try await test.submit([spec]).first)
            try await test.eventually("the attempt starts") { executor.started }
            // Another process holds the write lock: the attempt's end cannot be written yet.
            var configuration = Configuration()
            configuration.allowsUnsafeTransactions = true
            let blocker = try DatabaseQueue(path: test.store.path, configuration: configuration)
            try await blocker.writeWithoutTransaction { try $0.execute(sql: "BEGIN IMMEDIATE") }
            executor.open()
            try await test.eventually("the attempt fails") { executor.returned }
            #expect(try await test.dispatcher.cancel(id) == .running)
            try await blocker.writeWithoutTransaction { try $0.execute(sql: "COMMIT") }
            let record = try await test.waitTerminal(id)
            #expect(record.state == .cancelled)
            #expect(record.attempts?.count == 1)
        }
    }
}
