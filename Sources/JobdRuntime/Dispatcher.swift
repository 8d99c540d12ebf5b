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
/// The database is the queue. `run()` is one loop that, each time it wakes, makes one
/// round trip to the database (`JobStore.settle(_:)`): it records every attempt that ended
/// since the last round and claims due jobs for the slots that are free, in one
/// transaction. It wakes on a submit, on an ended attempt, at the earliest timed
/// deadline and at the earliest future `run_at`; it never polls.
///
/// Attempts run two ways. A timed one (`TimedJobExecutor`: delay jobs) is an entry in
/// a deadline heap and needs no task at all. Any other (fetch) runs as a child task of
/// one task group, racing its executor against its timeout and a stop request; its end
/// is handed back to the loop. Either way an end stays in memory until it is written, so
/// a store that cannot commit (disk full, locked) loses nothing; it is tried again with
/// backoff.
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
        /// Stops a task-run attempt; nil for a timed one, which the loop ends itself.
        var stop: OneShot<StopReason>?
        /// A cancel was answered `running` for this attempt: whatever end it reaches, the
        /// job must not run again (a retry or an interruption becomes `cancelled`).
        var cancelRequested = false
    }

    /// A timed attempt waiting for its deadline.
    private struct TimedRun {
        var job: ClaimedJob
        /// The outcome at the deadline: the plan's, or `.timedOut` when the job's
        /// timeout comes first.
        var outcome: RaceResult
    }

    /// An attempt that ended and waits for the loop to record it.
    private struct Ended {
        var job: ClaimedJob
        var end: AttemptEnd
        /// When it ended: the attempt's recorded `finished_at`, not the later write's time.
        var at: Date
    }

    private struct State {
        /// Every attempt from its claim until its end is recorded (so an ended but not yet
        /// written attempt still holds its slot).
        var running: [JobID: Running] = [:]
        var timed: [JobID: TimedRun] = [:]
        var deadlines = DeadlineHeap()
        var ended: [Ended] = []
        var maxRunning = 0
        var workers: Int
        var submitted = 0
        var finished = 0
        var isShuttingDown = false
        var graceArmed = false
        /// Cancels that found the job running in the database before it registered.
        var pendingCancels: Set<JobID> = []
        /// The instant the armed timer wakes at, so a later one is not armed twice.
        var timerDeadline: ContinuousClock.Instant?
        var isLoopRunning = false
        var isPaused = false
        var runningByKind: [JobKind: Int] = [:]
        var runningByHost: [String: Int] = [:]

        /// Removes a finished attempt's slot, if `attemptID` still holds it.
        mutating func release(_ jobID: JobID, attemptID: Int64) {
            guard let running = running[jobID], running.attemptID == attemptID else { return }
            self.running[jobID] = nil
            runningByKind[running.kind, default: 1] -= 1
            if let host = running.host {
                runningByHost[host, default: 1] -= 1
                if runningByHost[host] == 0 { runningByHost[host] = nil }
            }
        }

        /// Takes the timed attempts due at `now` out of the heap.
        mutating func takeDue(_ now: ContinuousClock.Instant) -> [TimedRun] {
            var due: [TimedRun] = []
            while let top = deadlines.peek, top.deadline <= now {
                deadlines.pop()
                if let run = timed[top.jobID], run.job.attemptID == top.attemptID {
                    timed[top.jobID] = nil
                    due.append(run)
                }
            }
            return due
        }
    }

    let store: any JobStore
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
        store: any JobStore,
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
        // Events come from the store's change feed, in commit order, whoever committed.
        let events = self.events
        store.subscribe { change in ChangeEventMapping.publish(change, to: events) }
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
        _ = try await requireOwner(of: jobID, submitterUID: submitterUID)
        let outcome = try await store.retry(jobID, defaultMaxAttempts: options.defaultMaxAttempts)
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
            outcomes = try await store.insert(jobs, maxQueued: options.maxQueued, now: now)
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
        _ = try await requireOwner(of: jobID, submitterUID: submitterUID)
        if stopRunning(jobID, reason: .cancelRequested, orRemember: false) {
            return .running
        }
        let outcome = try await store.cancel(jobID)
        switch outcome {
        case .cancelled:
            events.jobFinished(jobID)
            return .cancelled
        case .running:
            // Claimed, but not registered yet (or it registered after the check above):
            // leave a note the registration picks up.
            stopRunning(jobID, reason: .cancelRequested, orRemember: true)
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

    /// Stops a running attempt: a task-run one through its stop signal, a timed one by
    /// ending it now. With `orRemember`, a job not registered yet gets a note that its
    /// registration picks up.
    ///
    /// - Returns: True when the job was running here.
    @discardableResult
    private func stopRunning(_ jobID: JobID, reason: StopReason, orRemember: Bool) -> Bool {
        enum Action {
            case alreadyEnding
            case signal(OneShot<StopReason>)
            case end(ClaimedJob)
        }
        let action: Action? = state.withLock { state in
            guard let running = state.running[jobID] else {
                if orRemember { state.pendingCancels.insert(jobID) }
                return nil
            }
            if reason == .cancelRequested { state.running[jobID]?.cancelRequested = true }
            if let stop = running.stop { return .signal(stop) }
            // A timed attempt still waiting ends now; one already ended is being written.
            guard let run = state.timed.removeValue(forKey: jobID) else { return .alreadyEnding }
            return .end(run.job)
        }
        switch action {
        case nil:
            return false
        case .alreadyEnding:
            return true
        case .signal(let stop):
            stop.fulfil(reason)
            return true
        case .end(let job):
            ended(job, end: decideEnd(job, .stopped(reason)))
            return true
        }
    }

    /// Most jobs one round claims. A bigger claim holds the writer longer and makes more
    /// work runnable at once; the API's requests wait behind both (docs/benchmarks.md, W4).
    static let claimChunk = 512

    private func dispatchLoop() async {
        state.withLock { $0.isLoopRunning = true }
        defer { state.withLock { $0.isLoopRunning = false } }
        var startPruning = true
        // After a failed round: the pause before the next, growing to 5 s.
        var failurePause: Duration?
        var failingSince: ContinuousClock.Instant?
        await withDiscardingTaskGroup { group in
            for await _ in wakeups {
                let instant = ContinuousClock.now
                let due = state.withLock { $0.takeDue(instant) }
                for run in due {
                    ended(run.job, end: decideEnd(run.job, run.outcome), wake: false)
                }
                let round = state.withLock { state in
                    let arm = state.isShuttingDown && !state.graceArmed
                    if arm { state.graceArmed = true }
                    // An attempt that ended on its own just as a cancel was answered
                    // `running` honours the cancel rather than running again.
                    let ended = state.ended.map { item in
                        guard state.running[item.job.id]?.cancelRequested == true else { return item }
                        return Ended(job: item.job, end: Self.honouringCancel(item.end), at: item.at)
                    }
                    state.ended.removeAll(keepingCapacity: true)
                    return (
                        shuttingDown: state.isShuttingDown, armGrace: arm, ended: ended,
                        running: state.running.count, free: state.workers - state.running.count + ended.count,
                        paused: state.isPaused
                    )
                }
                if round.armGrace {
                    group.addTask { await self.interruptAfterGrace() }
                }
                if startPruning && !round.shuttingDown {
                    startPruning = false
                    if let retention = options.retention {
                        group.addTask { await self.pruneLoop(retention: retention) }
                    }
                }
                let limit = round.shuttingDown || round.paused ? 0 : min(max(0, round.free), Self.claimChunk)
                if round.ended.isEmpty && limit == 0 {
                    if round.shuttingDown && round.running == 0 { break }
                    armNextDeadline(in: &group)
                    continue
                }
                let (excludedKinds, excludedHosts) = limit > 0 ? saturated(after: round.ended) : ([], [])
                // One instant for the claim and the next-run_at query (they share a
                // transaction): a job due in between is either claimed or timed.
                let now = Date()
                let ended = round.ended
                let outcome: SettleOutcome
                do {
                    outcome = try await store.settle(
                        SettleRequest(
                            finishes: ended.map {
                                AttemptFinish(
                                    attempt: $0.job.attempt, end: $0.end, endedAt: $0.at,
                                    submitterUID: $0.job.submitterUID)
                            },
                            claim: ClaimRequest(
                                limit: limit, excludingKinds: excludedKinds, excludingHosts: excludedHosts, now: now)))
                    failurePause = nil
                    failingSince = nil
                } catch {
                    // Nothing of the round was stored: keep the ends and try again.
                    let pause = min((failurePause ?? .milliseconds(50)) * 2, .seconds(5))
                    failurePause = pause
                    let since = failingSince ?? instant
                    failingSince = since
                    logger.error(
                        "cannot record attempts or claim jobs; keeping \(ended.count) ends in memory, trying again",
                        metadata: ["error": "\(error)", "retry.seconds": "\(Self.seconds(pause))"])
                    if round.shuttingDown && ContinuousClock.now - since > options.shutdownGrace {
                        // Stopping, and the store still cannot write: leave the attempts
                        // `running` on disk; start-up recovery re-queues them.
                        logger.error(
                            "shutdown: giving up recording attempts; they are recovered at the next start",
                            metadata: ["attempts": "\(ended.count)"])
                        state.withLock { state in
                            for item in ended { state.release(item.job.id, attemptID: item.job.attemptID) }
                        }
                        wakeup.yield()
                        continue
                    }
                    state.withLock { $0.ended.insert(contentsOf: ended, at: 0) }
                    arm(timerAt: .now + pause, in: &group)
                    continue
                }
                let cancelNow = recordEnded(ended, recorded: outcome.recorded)
                for jobID in cancelNow {
                    // Cancelled while its retry was being written: cancel the queued retry
                    // before the next round can claim it.
                    _ = try? await cancel(jobID)
                }
                admit(outcome.claimed, now: instant, in: &group)
                if limit > 0 && outcome.claimed.count == limit && round.free > limit {
                    // More slots than one claim takes: claim again, after letting the
                    // API's requests run.
                    wakeup.yield()
                    await Task.yield()
                } else if let next = outcome.nextRunAt {
                    arm(timerAt: .now + .seconds(next.timeIntervalSince(Date())), in: &group)
                }
                armNextDeadline(in: &group)
                if round.shuttingDown && state.withLock({ $0.running.isEmpty && $0.ended.isEmpty }) { break }
            }
            // Every job has finished; what is left are timers, which must not hold up the stop.
            group.cancelAll()
        }
    }

    /// Frees the slots of recorded ends and reports them.
    ///
    /// - Returns: Jobs that a cancel answered `running` reached while their re-queue
    ///   (a retry, an interruption) was being written: they must be cancelled now.
    private func recordEnded(_ ended: [Ended], recorded: [Bool]) -> [JobID] {
        guard !ended.isEmpty else { return [] }
        let (running, cancelNow) = state.withLock { state in
            var cancelNow: [JobID] = []
            for (item, wasRecorded) in zip(ended, recorded) {
                if wasRecorded, !Self.isTerminal(item.end),
                    let running = state.running[item.job.id], running.attemptID == item.job.attemptID,
                    running.cancelRequested
                {
                    cancelNow.append(item.job.id)
                }
                state.release(item.job.id, attemptID: item.job.attemptID)
            }
            state.finished += ended.count
            return (state.running.count, cancelNow)
        }
        metrics.running.record(running)
        for (item, wasRecorded) in zip(ended, recorded) {
            log(item.end, recorded: wasRecorded, job: item.job)
            if wasRecorded && Self.isTerminal(item.end) {
                events.jobFinished(item.job.id)
            }
        }
        return cancelNow
    }

    /// Registers claimed jobs and starts them; jobs over a kind or host limit go back.
    private func admit(_ claimed: [ClaimedJob], now: ContinuousClock.Instant, in group: inout DiscardingTaskGroup) {
        guard !claimed.isEmpty else { return }
        var released: [AttemptRef] = []
        var endedAtOnce = false
        for job in claimed {
            let timed = executors[job.spec.kind] as? any TimedJobExecutor
            var run: TimedRun?
            var deadline = now
            if let timed {
                let plan = timed.plan(job)
                var outcome = RaceResult.finished(plan.outcome.mapError { $0 as any Error })
                var duration = plan.duration
                if let timeout = job.timeout, Duration.seconds(timeout) < duration {
                    duration = .seconds(timeout)
                    outcome = .timedOut
                }
                deadline = now + duration
                run = TimedRun(job: job, outcome: outcome)
            }
            let stop = timed == nil ? OneShot<StopReason>() : nil
            let admission = state.withLock { state -> (admitted: Bool, cancelPending: Bool) in
                // One claim can return more jobs of a kind or host than it has free
                // slots: the extras go back to the queue untouched.
                let kind = job.spec.kind
                if let limit = options.kindLimits[kind], state.runningByKind[kind, default: 0] >= limit {
                    return (false, false)
                }
                if let host = job.host, let limit = options.hostLimit, state.runningByHost[host, default: 0] >= limit {
                    return (false, false)
                }
                state.running[job.id] = Running(attemptID: job.attemptID, kind: kind, host: job.host, stop: stop)
                state.runningByKind[kind, default: 0] += 1
                if let host = job.host { state.runningByHost[host, default: 0] += 1 }
                state.maxRunning = max(state.maxRunning, state.running.count)
                let cancelPending = state.pendingCancels.remove(job.id) != nil
                if let run, !cancelPending, deadline > now {
                    state.timed[job.id] = run
                    state.deadlines.push(deadline, jobID: job.id, attemptID: job.attemptID)
                }
                return (true, cancelPending)
            }
            guard admission.admitted else {
                released.append(job.attempt)
                continue
            }
            logger.debug("job started", metadata: jobMetadata(job))
            metrics.queueWait.record(duration: .milliseconds(Int64(max(0, -job.runAt.timeIntervalSinceNow) * 1000)))
            events.publish(
                .started, jobID: job.id, state: .running, attempt: job.attemptNumber, submitterUID: job.submitterUID)
            if let run {
                if admission.cancelPending {
                    ended(job, end: decideEnd(job, .stopped(.cancelRequested)), wake: false)
                    endedAtOnce = true
                } else if deadline <= now {
                    // Nothing to wait for (a delay of 0): it ends in the next round.
                    ended(job, end: decideEnd(job, run.outcome), wake: false)
                    endedAtOnce = true
                }
            } else if let stop {
                if admission.cancelPending { stop.fulfil(.cancelRequested) }
                group.addTask { await self.runAttempt(job, stop: stop) }
            }
        }
        if endedAtOnce { wakeup.yield() }
        guard !released.isEmpty else { return }
        let store = self.store
        let logger = self.logger
        let wakeup = self.wakeup
        let allReleased = released.count == claimed.count
        group.addTask {
            do {
                try await store.release(released)
            } catch {
                // They stay `running` on disk without a task: start-up recovery re-queues
                // them at the latest. Log loudly; it needs a failing disk.
                logger.error("cannot release over-limit claims", metadata: ["error": "\(error)"])
            }
            // Slots the released jobs seemed to take are free for other work.
            if !allReleased { wakeup.yield() }
        }
    }

    /// Hands an attempt's end to the loop, which records it in its next round.
    private func ended(_ job: ClaimedJob, end: AttemptEnd, wake: Bool = true) {
        metrics.finished(kind: job.spec.kind, outcome: RuntimeMetrics.outcome(end))
        let at = Date()
        state.withLock { $0.ended.append(Ended(job: job, end: end, at: at)) }
        if wake { wakeup.yield() }
    }

    /// The kinds and hosts at their limits, which the next claim skips, counting the
    /// `ended` attempts (recorded in the same round) as gone.
    private func saturated(after ended: [Ended]) -> (kinds: Set<JobKind>, hosts: Set<String>) {
        guard !options.kindLimits.isEmpty || options.hostLimit != nil else { return ([], []) }
        return state.withLock { state in
            var byKind = state.runningByKind
            var byHost = state.runningByHost
            for item in ended where state.running[item.job.id]?.attemptID == item.job.attemptID {
                byKind[item.job.spec.kind, default: 1] -= 1
                if let host = item.job.host { byHost[host, default: 1] -= 1 }
            }
            var kinds: Set<JobKind> = []
            for (kind, limit) in options.kindLimits where byKind[kind, default: 0] >= limit {
                kinds.insert(kind)
            }
            var hosts: Set<String> = []
            if let limit = options.hostLimit {
                for (host, count) in byHost where count >= limit { hosts.insert(host) }
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

    /// Arms a wake-up for the earliest timed deadline, or wakes now when it has passed.
    private func armNextDeadline(in group: inout DiscardingTaskGroup) {
        guard let next = state.withLock({ $0.deadlines.peek?.deadline }) else { return }
        if next <= .now {
            wakeup.yield()
        } else {
            arm(timerAt: next, in: &group)
        }
    }

    /// Arms a wake-up at `deadline` unless one at or before it is armed already.
    private func arm(timerAt deadline: ContinuousClock.Instant, in group: inout DiscardingTaskGroup) {
        let needed = state.withLock { state in
            if let armed = state.timerDeadline, armed <= deadline, armed > .now { return false }
            state.timerDeadline = deadline
            return true
        }
        guard needed else { return }
        // At most a day per sleep: a run_at centuries ahead must not overflow the clock's
        // nanoseconds; a timer that fires early just looks again and re-arms.
        let delay = min(max(.zero, deadline - .now), .seconds(86_400))
        group.addTask {
            // A cancelled timer (shutdown) must not wake anything.
            guard (try? await self.clock.sleep(for: delay)) != nil else { return }
            self.state.withLock { state in
                if state.timerDeadline == deadline { state.timerDeadline = nil }
            }
            self.wakeup.yield()
        }
    }

    private func interruptAfterGrace() async {
        try? await clock.sleep(for: options.shutdownGrace)
        let (stops, timed) = state.withLock { state in
            let stops = state.running.values.compactMap(\.stop)
            let timed = state.timed.values.map(\.job)
            state.timed.removeAll()
            return (stops, timed)
        }
        if !stops.isEmpty || !timed.isEmpty {
            logger.info(
                "shutdown: grace period over, interrupting running jobs",
                metadata: ["jobs": "\(stops.count + timed.count)"])
        }
        for stop in stops { stop.fulfil(.shutdown) }
        for job in timed { ended(job, end: decideEnd(job, .stopped(.shutdown)), wake: false) }
        wakeup.yield()
    }

    private enum RaceResult: Sendable {
        case finished(Result<JobResult, any Error>)
        case timedOut
        case stopped(StopReason)
    }

    private func runAttempt(_ job: ClaimedJob, stop: OneShot<StopReason>) async {
        let started = ContinuousClock.now
        let outcome = await race(job, stop: stop)
        metrics.runTime(kind: job.spec.kind, ContinuousClock.now - started)
        ended(job, end: decideEnd(job, outcome))
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

    /// The end of an attempt whose job a user cancelled while it ran: a success or a final
    /// failure stands (it happened first), but nothing that would run the job again.
    private static func honouringCancel(_ end: AttemptEnd) -> AttemptEnd {
        switch end {
        case .succeeded, .cancelled, .failed(_, _, retryAt: nil):
            return end
        case .failed, .interrupted:
            return .cancelled(JobError(.cancelled, "cancelled by request while running"))
        }
    }

    private static func isTerminal(_ end: AttemptEnd) -> Bool {
        switch end {
        case .succeeded, .cancelled: true
        case .failed(_, _, let retryAt): retryAt == nil
        case .interrupted: false
        }
    }

    private func jobMetadata(_ job: ClaimedJob) -> Logger.Metadata {
        ["job.id": "\(job.id)", "job.kind": "\(job.spec.kind)", "job.attempt": "\(job.attemptNumber)"]
    }

    private func log(_ end: AttemptEnd, recorded: Bool, job: ClaimedJob) {
        guard recorded else {
            logger.info("attempt ended after its job moved on; outcome dropped (fenced)", metadata: jobMetadata(job))
            return
        }
        switch end {
        case .succeeded:
            logger.debug("job succeeded", metadata: jobMetadata(job))
        case .failed(let error, _, let retryAt):
            var metadata = jobMetadata(job)
            metadata["error.code"] = "\(error.code)"
            metadata["error.message"] = "\(error.message)"
            if let retryAt { metadata["retry.at"] = "\(RFC3339.string(from: retryAt))" }
            logger.info(retryAt == nil ? "job failed" : "attempt failed; retry scheduled", metadata: metadata)
        case .cancelled:
            logger.info("job cancelled while running", metadata: jobMetadata(job))
        case .interrupted:
            logger.info("attempt interrupted by shutdown; job re-queued", metadata: jobMetadata(job))
        }
    }
}
