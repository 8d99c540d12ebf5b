import CoreMetrics
import Foundation
import JobdModel
import JobdStore
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Runs jobs from the database under a worker limit: the heart of the daemon.
///
/// The database is the queue. `run()` claims due jobs in batches as worker slots free
/// up and runs each as a child task of one task group. It wakes on a submit, on a
/// finished job and at the earliest future `run_at`; it never polls. Each attempt races
/// its executor against its timeout and a stop request (cancel or shutdown), then
/// records the outcome through the attempt's fencing token.
///
/// On graceful shutdown it stops claiming, lets running jobs finish for
/// `shutdownGrace`, interrupts the rest (re-queued without using an attempt) and
/// returns when every outcome is committed.
public final class Dispatcher: Service, Sendable {
    /// Counters of the dispatcher since start.
    public struct Statistics: Sendable, Hashable {
        /// Jobs running now.
        public var running: Int
        /// The highest `running` seen.
        public var maxRunning: Int
        /// The worker limit.
        public var workers: Int
        /// Jobs accepted by `submit`.
        public var submitted: Int
        /// Attempts recorded.
        public var finished: Int
        /// True once a graceful shutdown began.
        public var isShuttingDown: Bool
        /// True while dispatching is paused.
        public var isPaused: Bool
    }

    private enum StopReason: Sendable {
        case cancelRequested
        case shutdown
    }

    private struct Running {
        var attemptID: Int64
        var kind: JobKind
        var host: String?
        var stop: OneShot<StopReason>
    }

    private struct State {
        var running: [JobID: Running] = [:]
        var maxRunning = 0
        var workers: Int
        var submitted = 0
        var finished = 0
        var isShuttingDown = false
        var graceArmed = false
        /// Cancels that found the job running in the database before its task registered.
        var pendingCancels: Set<JobID> = []
        /// The `run_at` the armed timer wakes for, so a later one is not armed twice.
        var timerDeadline: Date?
        var isLoopRunning = false
        var isPaused = false
        var runningByKind: [JobKind: Int] = [:]
        var runningByHost: [String: Int] = [:]
    }

    let store: JobStore
    let executors: [JobKind: any JobExecutor]
    let options: RuntimeOptions
    let events: EventBroadcaster
    let clock: any Clock<Duration>
    let logger: Logger
    let metrics = RuntimeMetrics()
    private let state: Mutex<State>
    private let wakeups: AsyncStream<Void>
    private let wakeup: AsyncStream<Void>.Continuation

    /// Makes a dispatcher; it does nothing until `run()`.
    ///
    /// - Parameters:
    ///   - store: The open store (recovery must have run).
    ///   - executors: One executor per job kind.
    ///   - options: Worker limit, defaults, grace period, retry backoff.
    ///   - events: Where terminal states are announced.
    ///   - clock: The clock for timeouts, timers and the grace period.
    ///   - logger: The logger.
    public init(
        store: JobStore,
        executors: [JobKind: any JobExecutor],
        options: RuntimeOptions,
        events: EventBroadcaster,
        clock: any Clock<Duration> = ContinuousClock(),
        logger: Logger
    ) {
        self.store = store
        self.executors = executors
        self.options = options
        self.events = events
        self.clock = clock
        self.logger = logger
        self.state = Mutex(State(workers: max(1, options.workers)))
        // One pending wake-up is enough: a wake means "look again", and one look sees all.
        (wakeups, wakeup) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        wakeup.yield()
    }

    /// True while the dispatch loop runs (the watchdog's liveness check).
    public var isLoopRunning: Bool { state.withLock { $0.isLoopRunning } }

    /// Changes the global worker limit; takes effect at the next claim. Running jobs above
    /// a lowered limit finish normally.
    ///
    /// - Parameter workers: The new limit, 1 or more.
    public func setWorkers(_ workers: Int) {
        state.withLock { $0.workers = max(1, workers) }
        wakeup.yield()
    }

    /// Stops starting jobs; running jobs go on. Submits are still accepted.
    public func pause() {
        state.withLock { $0.isPaused = true }
        logger.info("dispatching paused")
    }

    /// Starts dispatching again after `pause()`.
    public func resume() {
        state.withLock { $0.isPaused = false }
        logger.info("dispatching resumed")
        wakeup.yield()
    }

    /// Queues a finished job again with a fresh attempt budget.
    ///
    /// - Parameters:
    ///   - jobID: The job.
    ///   - submitterUID: When set, only a job this uid submitted is retried; any other
    ///     (another user's, or one with no recorded submitter) is answered as not found,
    ///     so its existence is not revealed. Nil acts on any job (an admin).
    /// - Throws: `APIError` `job_not_found`, or `invalid_state` when the job is queued or
    ///   running; `StoreError`.
    public func retry(_ jobID: JobID, submitterUID: UInt32? = nil) async throws {
        let owner = try await requireOwner(of: jobID, submitterUID: submitterUID)
        let events = self.events
        let outcome = try await store.retry(jobID, defaultMaxAttempts: options.defaultMaxAttempts) { outcome in
            if outcome == .requeued {
                events.publish(.requeued, jobID: jobID, state: .queued, submitterUID: owner.submitterUID)
            }
        }
        switch outcome {
        case .requeued:
            wakeup.yield()
        case .notFinished(let state):
            throw APIError(.invalidState, "job \(jobID) is \(state.rawValue); only a finished job can be retried")
        case .notFound:
            throw APIError(.jobNotFound, "no job has id \(jobID)")
        }
    }

    /// The job's owner, if the job exists and `submitterUID` (when set) submitted it.
    ///
    /// Job ids are never reused (AUTOINCREMENT) and a job's submitter never changes, so the
    /// answer stays true for the action that follows.
    private func requireOwner(of jobID: JobID, submitterUID: UInt32?) async throws -> JobOwner {
        guard let owner = try await store.owner(of: jobID),
            submitterUID == nil || owner.submitterUID == submitterUID
        else {
            throw APIError(.jobNotFound, "no job has id \(jobID)")
        }
        return owner
    }

    /// Deletes finished jobs that finished more than `age` ago, in small transactions.
    ///
    /// - Returns: How many jobs were deleted.
    /// - Throws: `StoreError`.
    public func prune(olderThan age: Duration) async throws -> Int {
        let cutoff = Date().addingTimeInterval(-Self.seconds(age))
        var total = 0
        while true {
            let deleted = try await store.prune(finishedBefore: cutoff, limit: Self.pruneBatch)
            total += deleted
            if deleted < Self.pruneBatch { return total }
        }
    }

    static let pruneBatch = 500

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// The current counters.
    public var statistics: Statistics {
        state.withLock { state in
            Statistics(
                running: state.running.count, maxRunning: state.maxRunning, workers: state.workers,
                submitted: state.submitted, finished: state.finished, isShuttingDown: state.isShuttingDown,
                isPaused: state.isPaused)
        }
    }

    /// Stores new jobs with the daemon's defaults filled in, then wakes the loop.
    ///
    /// Returns only after the jobs are committed.
    ///
    /// - Parameters:
    ///   - specs: Validated specs.
    ///   - submitterUID: The submitting peer's uid, when known.
    /// - Returns: One outcome per spec, in order.
    /// - Throws: `APIError` `shutting_down` during a shutdown, `queue_full` past
    ///   `max_queued`, `invalid_state` (field `key`) when a key belongs to another
    ///   submitter's job; `StoreError` when the store cannot commit (then nothing was stored).
    public func submit(_ specs: [JobSpec], submitterUID: UInt32? = nil) async throws -> [InsertOutcome] {
        guard !state.withLock({ $0.isShuttingDown }) else {
            throw APIError(.shuttingDown, "jobd is shutting down and accepts no new jobs")
        }
        let now = Date()
        let jobs = specs.map { spec in
            NewJob(
                spec: spec, priority: spec.priority ?? 0, runAt: spec.runAt ?? now,
                maxAttempts: spec.maxAttempts ?? options.defaultMaxAttempts,
                timeout: spec.timeout
                    ?? (spec.kind == .fetch ? options.defaultFetchTimeout : options.defaultDelayTimeout),
                onInterrupt: spec.onInterrupt ?? .retry, submitterUID: submitterUID)
        }
        let outcomes: [InsertOutcome]
        do {
            let events = self.events
            outcomes = try await store.insert(jobs, maxQueued: options.maxQueued, now: now) { outcomes in
                for outcome in outcomes where outcome.created {
                    events.publish(.submitted, jobID: outcome.id, state: .queued, submitterUID: submitterUID)
                }
            }
        } catch let error as StoreError where error.code == .queueFull {
            throw APIError(.queueFull, error.message)
        } catch let error as StoreError where error.code == .keyTaken {
            throw APIError(.invalidState, "\(error.message); choose another key", field: "key")
        }
        let created = outcomes.count { $0.created }
        if created > 0 { metrics.submitted.increment(by: Int64(created)) }
        state.withLock { $0.submitted += created }
        if created > 0 { wakeup.yield() }
        return outcomes
    }

    /// Cancels a job: a queued one at once, a running one by stopping its attempt.
    ///
    /// - Parameters:
    ///   - jobID: The job.
    ///   - submitterUID: When set, only a job this uid submitted is cancelled; any other is
    ///     answered as not found. Nil acts on any job (an admin).
    /// - Returns: `cancelled` when it was queued; `running` when its attempt was asked to
    ///   stop (it ends `cancelled` once stopped).
    /// - Throws: `APIError` `job_not_found` or `invalid_state` (already terminal);
    ///   `StoreError`.
    public func cancel(_ jobID: JobID, submitterUID: UInt32? = nil) async throws -> JobState {
        let owner = try await requireOwner(of: jobID, submitterUID: submitterUID)
        if let stop = state.withLock({ $0.running[jobID]?.stop }) {
            stop.fulfil(.cancelRequested)
            return .running
        }
        let events = self.events
        let outcome = try await store.cancel(jobID) { outcome in
            if outcome == .cancelled {
                events.publish(.cancelled, jobID: jobID, state: .cancelled, submitterUID: owner.submitterUID)
            }
        }
        switch outcome {
        case .cancelled:
            events.jobFinished(jobID)
            return .cancelled
        case .running:
            // Claimed, but its task has not registered yet (or it registered after the
            // check above): leave a note the registration picks up.
            let stop: OneShot<StopReason>? = state.withLock { state in
                if let running = state.running[jobID] { return running.stop }
                state.pendingCancels.insert(jobID)
                return nil
            }
            stop?.fulfil(.cancelRequested)
            return .running
        case .alreadyTerminal(let terminal):
            throw APIError(.invalidState, "job \(jobID) already \(terminal.rawValue)")
        case .notFound:
            throw APIError(.jobNotFound, "no job has id \(jobID)")
        }
    }

    /// Runs the dispatch loop until a graceful shutdown has drained every running job.
    public func run() async throws {
        await withGracefulShutdownHandler {
            await self.dispatchLoop()
        } onGracefulShutdown: {
            self.beginShutdown()
        }
        events.close()
    }

    /// Stops claiming and starts the grace period. Safe to call more than once.
    public func beginShutdown() {
        let first = state.withLock { state in
            defer { state.isShuttingDown = true }
            return !state.isShuttingDown
        }
        if first {
            logger.info(
                "shutdown: no new jobs, draining running ones",
                metadata: ["grace.seconds": "\(options.shutdownGrace.components.seconds)"])
            wakeup.yield()
        }
    }

    private func dispatchLoop() async {
        state.withLock { $0.isLoopRunning = true }
        defer { state.withLock { $0.isLoopRunning = false } }
        var startPruning = true
        await withDiscardingTaskGroup { group in
            for await _ in wakeups {
                let (shuttingDown, armGrace, running, free, paused) = state.withLock { state in
                    let arm = state.isShuttingDown && !state.graceArmed
                    if arm { state.graceArmed = true }
                    return (
                        state.isShuttingDown, arm, state.running.count, state.workers - state.running.count,
                        state.isPaused
                    )
                }
                if shuttingDown {
                    if armGrace {
                        group.addTask { await self.interruptAfterGrace() }
                    }
                    if running == 0 { break }
                    continue
                }
                if startPruning {
                    startPruning = false
                    if let retention = options.retention {
                        group.addTask { await self.pruneLoop(retention: retention) }
                    }
                }
                guard free > 0, !paused else { continue }
                let (excludedKinds, excludedHosts) = saturated()
                // One instant for the claim and the timer query: a job due in between would
                // otherwise be neither claimed (not yet due) nor timed (no longer future).
                let now = Date()
                let claimed: [ClaimedJob]
                do {
                    claimed = try await store.claimReady(
                        limit: free, excludingKinds: excludedKinds, excludingHosts: excludedHosts, now: now)
                } catch {
                    logger.error("cannot claim jobs; trying again in 1s", metadata: ["error": "\(error)"])
                    arm(timerFor: Date().addingTimeInterval(1), in: &group)
                    continue
                }
                var released: [(id: JobID, attemptID: Int64)] = []
                for job in claimed {
                    let stop = OneShot<StopReason>()
                    let admission = state.withLock { state -> (admitted: Bool, cancelPending: Bool) in
                        // One claim can return more jobs of a kind or host than it has free
                        // slots: the extras go back to the queue untouched.
                        let kind = job.spec.kind
                        if let limit = options.kindLimits[kind], state.runningByKind[kind, default: 0] >= limit {
                            return (false, false)
                        }
                        if let host = job.host, let limit = options.hostLimit,
                            state.runningByHost[host, default: 0] >= limit
                        {
                            return (false, false)
                        }
                        state.running[job.id] = Running(
                            attemptID: job.attemptID, kind: kind, host: job.host, stop: stop)
                        state.runningByKind[kind, default: 0] += 1
                        if let host = job.host { state.runningByHost[host, default: 0] += 1 }
                        state.maxRunning = max(state.maxRunning, state.running.count)
                        return (true, state.pendingCancels.remove(job.id) != nil)
                    }
                    guard admission.admitted else {
                        released.append((job.id, job.attemptID))
                        continue
                    }
                    if admission.cancelPending { stop.fulfil(.cancelRequested) }
                    events.publish(
                        .started, jobID: job.id, state: .running, attempt: job.attemptNumber,
                        submitterUID: job.submitterUID)
                    group.addTask { await self.runAttempt(job, stop: stop) }
                }
                if !released.isEmpty {
                    do {
                        try await store.release(released)
                    } catch {
                        // They stay `running` on disk without a task: start-up recovery
                        // re-queues them at the latest. Log loudly; it needs a failing disk.
                        logger.error("cannot release over-limit claims", metadata: ["error": "\(error)"])
                    }
                    // Slots the released jobs seemed to take are free for other work.
                    if released.count < claimed.count { wakeup.yield() }
                }
                if claimed.count < free {
                    // Nothing else is due now: sleep until the earliest future run_at.
                    do {
                        if let next = try await store.earliestRunAt(after: now) {
                            arm(timerFor: next, in: &group)
                        }
                    } catch {
                        logger.error("cannot read the queue; trying again in 1s", metadata: ["error": "\(error)"])
                        arm(timerFor: Date().addingTimeInterval(1), in: &group)
                    }
                }
            }
            // Every job has finished; what is left are timers, which must not hold up the stop.
            group.cancelAll()
        }
    }

    /// The kinds and hosts at their limits, which the next claim skips.
    private func saturated() -> (kinds: Set<JobKind>, hosts: Set<String>) {
        state.withLock { state in
            var kinds: Set<JobKind> = []
            for (kind, limit) in options.kindLimits where state.runningByKind[kind, default: 0] >= limit {
                kinds.insert(kind)
            }
            var hosts: Set<String> = []
            if let limit = options.hostLimit {
                for (host, count) in state.runningByHost where count >= limit { hosts.insert(host) }
            }
            return (kinds, hosts)
        }
    }

    /// Deletes jobs past the retention age in small batches, then sleeps until the oldest
    /// finished job expires (no polling: an idle daemon with nothing to expire sleeps for a
    /// whole retention period).
    private func pruneLoop(retention: Duration) async {
        let age = Self.seconds(retention)
        while !Task.isCancelled {
            var pause = age
            do {
                let pruned = try await prune(olderThan: retention)
                if pruned > 0 { logger.info("pruned finished jobs past retention", metadata: ["jobs": "\(pruned)"]) }
                if let oldest = try await store.earliestFinishedAt() {
                    // Batches of 1 s at least, so a steady stream of expiring jobs is
                    // deleted in groups rather than one wake-up each.
                    pause = max(1, oldest.timeIntervalSinceNow + age)
                }
            } catch {
                logger.error("cannot prune finished jobs; trying again in 60 s", metadata: ["error": "\(error)"])
                pause = 60
            }
            guard (try? await clock.sleep(for: .nanoseconds(Int64(min(pause, 1e9) * 1e9)))) != nil else { return }
        }
    }

    /// Arms a wake-up at `deadline` unless one at or before it is armed already.
    private func arm(timerFor deadline: Date, in group: inout DiscardingTaskGroup) {
        let needed = state.withLock { state in
            if let armed = state.timerDeadline, armed <= deadline, armed > Date() { return false }
            state.timerDeadline = deadline
            return true
        }
        guard needed else { return }
        let delay = max(0, deadline.timeIntervalSinceNow)
        group.addTask {
            // A cancelled timer (shutdown) must not wake anything.
            guard (try? await self.clock.sleep(for: .nanoseconds(Int64(delay * 1e9)))) != nil else { return }
            self.state.withLock { state in
                if state.timerDeadline == deadline { state.timerDeadline = nil }
            }
            self.wakeup.yield()
        }
    }

    private func interruptAfterGrace() async {
        try? await clock.sleep(for: options.shutdownGrace)
        let stops = state.withLock { $0.running.values.map(\.stop) }
        if !stops.isEmpty {
            logger.info("shutdown: grace period over, interrupting running jobs", metadata: ["jobs": "\(stops.count)"])
        }
        for stop in stops { stop.fulfil(.shutdown) }
    }

    private enum RaceResult: Sendable {
        case finished(Result<JobResult, any Error>)
        case timedOut
        case stopped(StopReason)
    }

    private func runAttempt(_ job: ClaimedJob, stop: OneShot<StopReason>) async {
        var logger = self.logger
        logger[metadataKey: "job.id"] = "\(job.id)"
        logger[metadataKey: "job.kind"] = "\(job.spec.kind)"
        logger[metadataKey: "job.attempt"] = "\(job.attemptNumber)"
        logger.debug("job started")
        metrics.queueWait.record(duration: .milliseconds(Int64(max(0, -job.runAt.timeIntervalSinceNow) * 1000)))
        let started = ContinuousClock.now
        let outcome = await race(job, stop: stop)
        let end = decideEnd(job, outcome)
        metrics.runTime(kind: job.spec.kind, ContinuousClock.now - started)
        metrics.finished(kind: job.spec.kind, outcome: RuntimeMetrics.outcome(end))
        await record(job, end: end, logger: logger)
        let running = state.withLock { state in
            // The finish may already have re-queued the job and a new attempt claimed it:
            // only this attempt's entry is ours to remove.
            if let running = state.running[job.id], running.attemptID == job.attemptID {
                state.running[job.id] = nil
                state.runningByKind[running.kind, default: 1] -= 1
                if let host = running.host {
                    state.runningByHost[host, default: 1] -= 1
                    if state.runningByHost[host] == 0 { state.runningByHost[host] = nil }
                }
            }
            state.finished += 1
            return state.running.count
        }
        metrics.running.record(running)
        wakeup.yield()
    }

    /// Runs the executor against the timeout and the stop signal; the first to finish wins.
    private func race(_ job: ClaimedJob, stop: OneShot<StopReason>) async -> RaceResult {
        guard let executor = executors[job.spec.kind] else {
            return .finished(.failure(ExecutionFailure(.internal, "no executor for \(job.spec.kind) jobs")))
        }
        return await withTaskGroup(of: RaceResult?.self) { group in
            group.addTask {
                do {
                    return .finished(.success(try await executor.execute(job)))
                } catch {
                    return .finished(.failure(error))
                }
            }
            if let timeout = job.timeout {
                group.addTask {
                    guard (try? await self.clock.sleep(for: .nanoseconds(Int64(timeout * 1e9)))) != nil else {
                        return nil
                    }
                    return .timedOut
                }
            }
            group.addTask { await stop.wait().map(RaceResult.stopped) }
            var winner: RaceResult?
            while winner == nil, let next = await group.next() {
                winner = next
            }
            group.cancelAll()
            guard let winner else {
                preconditionFailure("the executor child always returns a result")
            }
            return winner
        }
    }

    private func decideEnd(_ job: ClaimedJob, _ outcome: RaceResult) -> AttemptEnd {
        let failure: ExecutionFailure
        switch outcome {
        case .finished(.success(let result)):
            return .succeeded(result)
        case .finished(.failure(let error as ExecutionFailure)):
            failure = error
        case .finished(.failure(let error)):
            failure = ExecutionFailure(.internal, "the attempt failed: \(error)")
        case .timedOut:
            let seconds = job.timeout.map { String(format: "%g", $0) } ?? "?"
            failure = ExecutionFailure(.timeout, "the attempt ran past its \(seconds)s timeout")
        case .stopped(.cancelRequested):
            return .cancelled(JobError(.cancelled, "cancelled by request while running"))
        case .stopped(.shutdown):
            let error = JobError(.interrupted, "the daemon stopped while this attempt ran")
            if (job.spec.onInterrupt ?? .retry) == .fail {
                return .failed(error, result: nil, retryAt: nil)
            }
            return .interrupted(error)
        }
        var retryAt: Date?
        if failure.error.isRetryable, job.attemptsUsed < job.maxAttempts {
            var delay = options.retryDelay(afterAttempt: job.attemptsUsed)
            if let retryAfter = failure.retryAfter {
                // The server said when to come back (429/503): never sooner, at most an hour.
                delay = max(delay, min(retryAfter, .seconds(3600)))
            }
            retryAt = Date().addingTimeInterval(Self.seconds(delay))
        }
        return .failed(failure.error, result: failure.result, retryAt: retryAt)
    }

    /// Writes the attempt's end, retrying while the store cannot commit.
    ///
    /// A result that cannot be written yet (disk full, database locked) stays in memory
    /// and is tried again with backoff; nothing acknowledged is dropped. If the daemon stops
    /// first, the attempt stays `running` on disk and start-up recovery re-queues it.
    private func record(_ job: ClaimedJob, end: AttemptEnd, logger: Logger) async {
        var pause = Duration.milliseconds(100)
        while true {
            do {
                let recorded = try await store.finish(job.id, attemptID: job.attemptID, end: end) { recorded in
                    if recorded { self.publish(end, job: job) }
                }
                log(end, recorded: recorded, logger: logger)
                if recorded, case let terminal = end, Self.isTerminal(terminal) {
                    events.jobFinished(job.id)
                }
                return
            } catch {
                let stopping = state.withLock { $0.isShuttingDown }
                logger.error(
                    "cannot record the attempt; keeping it in memory", metadata: ["error": "\(error)"])
                if stopping && pause > options.shutdownGrace { return }
                try? await clock.sleep(for: pause)
                pause = min(pause * 2, .seconds(5))
            }
        }
    }

    private func publish(_ end: AttemptEnd, job: ClaimedJob) {
        let attempt = job.attemptNumber
        let owner = job.submitterUID
        switch end {
        case .succeeded:
            events.publish(.succeeded, jobID: job.id, state: .succeeded, attempt: attempt, submitterUID: owner)
        case .failed(let error, _, let retryAt):
            events.publish(
                .attemptFailed, jobID: job.id, state: retryAt == nil ? .failed : .queued, attempt: attempt,
                error: error, submitterUID: owner)
            if let retryAt {
                events.publish(
                    .retryScheduled, jobID: job.id, state: .queued, attempt: attempt, runAt: retryAt,
                    submitterUID: owner)
            } else {
                events.publish(
                    .failed, jobID: job.id, state: .failed, attempt: attempt, error: error, submitterUID: owner)
            }
        case .cancelled(let error):
            events.publish(
                .cancelled, jobID: job.id, state: .cancelled, attempt: attempt, error: error, submitterUID: owner)
        case .interrupted(let error):
            events.publish(
                .interrupted, jobID: job.id, state: .queued, attempt: attempt, error: error, submitterUID: owner)
        }
    }

    private static func isTerminal(_ end: AttemptEnd) -> Bool {
        switch end {
        case .succeeded, .cancelled: true
        case .failed(_, _, let retryAt): retryAt == nil
        case .interrupted: false
        }
    }

    private func log(_ end: AttemptEnd, recorded: Bool, logger: Logger) {
        guard recorded else {
            logger.info("attempt ended after its job moved on; outcome dropped (fenced)")
            return
        }
        switch end {
        case .succeeded:
            logger.debug("job succeeded")
        case .failed(let error, _, let retryAt):
            var metadata: Logger.Metadata = ["error.code": "\(error.code)", "error.message": "\(error.message)"]
            if let retryAt { metadata["retry.at"] = "\(RFC3339.string(from: retryAt))" }
            logger.info(retryAt == nil ? "job failed" : "attempt failed; retry scheduled", metadata: metadata)
        case .cancelled:
            logger.info("job cancelled while running")
        case .interrupted:
            logger.info("attempt interrupted by shutdown; job re-queued")
        }
    }
}
