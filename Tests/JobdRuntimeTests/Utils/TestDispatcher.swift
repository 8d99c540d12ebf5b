import Foundation
import JobdModel
import JobdRuntime
import JobdStore
import JobdStoreSQLite
import Logging
import Synchronization
import Testing

/// A dispatcher on a real store in a temp directory, running for the body's duration.
struct TestDispatcher {
    let dispatcher: Dispatcher
    let store: SQLiteJobStore
    let events: EventBroadcaster

    /// Submits specs and returns their ids.
    func submit(_ specs: [JobSpec]) async throws -> [JobID] {
        try await dispatcher.submit(specs).map(\.id)
    }

    /// Waits until the job is terminal (deadline 60 s: a failure-only bound, generous for a busy machine) and returns its record.
    func waitTerminal(_ id: JobID, timeout: Duration = .seconds(60)) async throws -> JobRecord {
        let registration = events.register(id)
        defer { events.cancel(registration) }
        if let record = try await store.job(id), record.state.isTerminal { return record }
        _ = await events.wait(registration, timeout: timeout)
        let record = try #require(try await store.job(id))
        try #require(record.state.isTerminal, "job \(id) is still \(record.state) after \(timeout)")
        return record
    }

    /// Polls `condition` until it holds or `timeout` passes.
    func eventually(
        _ what: String, timeout: Duration = .seconds(60), _ condition: @Sendable () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(5))
        }
        Issue.record("timed out waiting for: \(what)")
        throw CancellationError()
    }
}

/// Runs `body` with a started dispatcher, then shuts it down and waits for it.
func withTestDispatcher<T>(
    options: RuntimeOptions = RuntimeOptions(workers: 4),
    executors: [JobKind: any JobExecutor] = [.delay: DelayExecutor()],
    _ body: (TestDispatcher) async throws -> T
) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("jobd-runtime-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let store = try SQLiteJobStore(path: directory.appendingPathComponent("jobs.sqlite").path)
    let events = EventBroadcaster()
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    let dispatcher = Dispatcher(store: store, executors: executors, options: options, events: events, logger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await dispatcher.run() }
        let result: Result<T, any Error>
        do {
            result = .success(try await body(TestDispatcher(dispatcher: dispatcher, store: store, events: events)))
        } catch {
            result = .failure(error)
        }
        dispatcher.beginShutdown()
        try await group.waitForAll()
        return try result.get()
    }
}

/// An executor that counts how many of its runs overlap, around an inner executor.
final class CountingExecutor: JobExecutor {
    private let inner: any JobExecutor
    private let counts = Mutex((current: 0, highest: 0, total: 0))

    init(_ inner: any JobExecutor) { self.inner = inner }

    var highest: Int { counts.withLock { $0.highest } }
    var current: Int { counts.withLock { $0.current } }
    var total: Int { counts.withLock { $0.total } }

    func execute(_ job: ClaimedJob) async throws -> JobResult {
        counts.withLock {
            $0.current += 1
            $0.total += 1
            $0.highest = max($0.highest, $0.current)
        }
        defer { counts.withLock { $0.current -= 1 } }
        return try await inner.execute(job)
    }
}

/// An executor that fails with a given error a number of times, then succeeds.
final class FlakyExecutor: JobExecutor {
    private let failures: Mutex<Int>
    private let error: JobError

    init(failures: Int, error: JobError) {
        self.failures = Mutex(failures)
        self.error = error
    }

    func execute(_ job: ClaimedJob) async throws -> JobResult {
        let fail = failures.withLock { remaining in
            defer { remaining -= 1 }
            return remaining > 0
        }
        if fail { throw ExecutionFailure(error) }
        return .delay(DelayResult(value: "ok"))
    }
}

/// An executor that never returns until cancelled, and says when it started.
final class HangingExecutor: JobExecutor {
    private let started = Mutex(0)
    var startedCount: Int { started.withLock { $0 } }

    func execute(_ job: ClaimedJob) async throws -> JobResult {
        started.withLock { $0 += 1 }
        try await Task.sleep(for: .seconds(3600))
        return .delay(DelayResult(value: .null))
    }
}

extension JobSpec {
    static func delay(_ seconds: Double, value: JSONValue? = nil, fail: String? = nil) -> JobSpec {
        JobSpec(.delay(DelaySpec(seconds: seconds, value: value, fail: fail)))
    }
}
