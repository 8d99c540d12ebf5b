import CoreMetrics
import Foundation
import HeapModule
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
        /// Jobs running now, holding a worker slot.
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
        /// Claimed fetches waiting for their host's rate limit, without a worker slot.
        public var rateLimited: Int = 0
        /// Rate-limit waits begun since start (fetches that found their host's token not
        /// yet due when claimed), a counter.
        public var rateLimitWaits: Int = 0
    }

    let store: any JobStore
    let executors: [JobKind: any JobExecutor]
    let options: RuntimeOptions
    let events: EventBroadcaster
    let clock: any Clock<Duration>
    let logger: Logger
    let metrics = RuntimeMetrics()
    let state: Mutex<DispatcherState>
    let runner: AttemptRunner
    let endPolicy: AttemptEndPolicy
    let attemptLog: AttemptLog
    let pruner: RetentionPruner
    private let wakeups: AsyncStream<Void>
    let wakeup: AsyncStream<Void>.Continuation

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
        self.state = Mutex(
            DispatcherState(
                rateLimiter: HostRateLimiter(table: options.hostRates), workers: max(1, options.workers),
                limits: AdmissionLimits(kindLimits: options.kindLimits, hostLimit: options.hostLimit)))
        runner = AttemptRunner(executors: executors, clock: clock)
        endPolicy = AttemptEndPolicy(options: options)
        attemptLog = AttemptLog(logger: logger)
        pruner = RetentionPruner(store: store, clock: clock, logger: logger)
        // One pending wake-up is enough: a wake means "look again", and one look sees all.
        (wakeups, wakeup) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        wakeup.yield()
        // Events and the wake-ups for new work come from the store's change feed, in
        // commit order, whoever committed (another node, with a cluster engine).
        let events = self.events
        let wakeup = self.wakeup
        store.subscribe { [weak self] change in
            ChangeEventMapping.publish(change, to: events)
            for id in ChangeEventMapping.terminalJob(of: change) { events.jobFinished(id) }
            switch change {
            case .inserted, .requeued, .rescued:
                wakeup.yield()
            case .dependencies(let transitions):
                // Released jobs are queued now: this node may be the one to run them.
                if transitions.contains(where: { $0.kind == .released }) { wakeup.yield() }
            case .batchCompleted(let completion):
                events.batchFinished(completion.batchID)
                // Its on_complete job is queued now: this node may be the one to run it.
                if completion.onCompleteID != nil { wakeup.yield() }
            case .finished(let finish):
                // Queued again by another node's retry: this node may be the one to run it.
                if finish.jobState == .queued { wakeup.yield() }
            case .cancelled, .started, .schedulesChanged, .leadershipChanged:
                break
            case .cancelRequested(let id):
                self?.stopRunning(id, reason: .cancelRequested, orRemember: false)
            case .leaseLost:
                self?.stopAllForLostLease()
            case .pauseChanged(let paused):
                self?.applyPause(paused, cluster: true)
            case .resynchronized:
                wakeup.yield()
                events.wakeBatchWaiters()
                self?.recheckWaiters()
                self?.reloadClusterPause()
            }
        }
    }

    /// True while the dispatch loop runs (the watchdog's liveness check).
    public var isLoopRunning: Bool { state.withLock { $0.isLoopRunning } }

    /// The current counters.
    public var statistics: Statistics {
        state.withLock { state in
            Statistics(
                running: state.slotted, maxRunning: state.maxRunning, workers: state.workers,
                submitted: state.submitted, finished: state.finished, isShuttingDown: state.isShuttingDown,
                isPaused: state.isPaused, rateLimited: state.waiting.count,
                rateLimitWaits: state.rateLimitWaits)
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

    /// Stops a running attempt: a task-run one through its stop signal, a timed one or
    /// one waiting for a rate limit by ending it now. With `orRemember`, a job not
    /// registered yet gets a note that its registration picks up.
    ///
    /// - Returns: True when the job was running here.
    @discardableResult
    func stopRunning(_ jobID: JobID, reason: StopReason, orRemember: Bool) -> Bool {
        enum Action {
            case alreadyEnding
            case signal(OneShot<StopReason>)
            case end(ClaimedJob)
            case endWait(RateWait)
        }
        let action: Action? = state.withLock { state in
            guard let running = state.running[jobID] else {
                if orRemember { state.pendingCancels.insert(jobID) }
                return nil
            }
            if reason == .cancelRequested { state.running[jobID]?.cancelRequested = true }
            // A wait ends now; from here on it is an ended attempt, holding a slot until
            // its end is written, like any other.
            if let wait = state.waiting.removeValue(forKey: jobID) { return .endWait(wait) }
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
            ended(job, end: endPolicy.end(of: job, .stopped(reason)))
            return true
        case .endWait(let wait):
            ended(wait.job, end: endOfWait(wait, reason))
            return true
        }
    }

    private func dispatchLoop() async {
        // A node joining a paused cluster claims nothing until it is resumed.
        if let paused = try? await store.clusterPaused() {
            applyPause(paused, cluster: true)
        }
        state.withLock { $0.isLoopRunning = true }
        defer { state.withLock { $0.isLoopRunning = false } }
        let claimChunk = max(1, store.claimChunk)
        var startPruning = true
        // After a failed round: the pause before the next, growing to 5 s.
        var failurePause: Duration?
        var failingSince: ContinuousClock.Instant?
        // How many kept ends the last failure log reported.
        var keptLogged = 0
        await withDiscardingTaskGroup { group in
            for await _ in wakeups {
                let instant = ContinuousClock.now
                let due = state.withLock { $0.takeDue(instant) }
                for run in due {
                    ended(run.job, end: endPolicy.end(of: run.job, run.outcome), wake: false)
                }
                if state.withLock({ $0.isShuttingDown && !$0.waiting.isEmpty }) {
                    await releaseWaitsForShutdown()
                }
                let round = state.withLock { state in
                    state.takeDueWaits(instant)
                    let arm = state.isShuttingDown && !state.graceArmed
                    if arm { state.graceArmed = true }
                    // An attempt that ended on its own just as a cancel was answered
                    // `running` honours the cancel rather than running again.
                    let ended = state.ended.map { item in
                        guard state.running[item.job.id]?.cancelRequested == true else { return item }
                        return EndedAttempt(job: item.job, end: AttemptEndPolicy.honouringCancel(item.end), at: item.at)
                    }
                    state.ended.removeAll(keepingCapacity: true)
                    // The ends free their slots (a wait that ended never held one); waits
                    // whose token is due take free slots before a claim does.
                    let freed = ended.count { state.running[$0.job.id]?.isStarted ?? true }
                    return (
                        shuttingDown: state.isShuttingDown, armGrace: arm, ended: ended,
                        running: state.running.count,
                        free: state.workers - state.slotted + freed - state.ready.count,
                        paused: state.isPaused
                    )
                }
                if round.armGrace {
                    group.addTask { await self.interruptAfterGrace() }
                }
                if startPruning && !round.shuttingDown {
                    startPruning = false
                    if let retention = options.retention {
                        group.addTask { await self.pruner.run(retention: retention) }
                    }
                }
                let limit = round.shuttingDown || round.paused ? 0 : min(max(0, round.free), claimChunk)
                if round.ended.isEmpty && limit == 0 {
                    startReady(in: &group)
                    if round.shuttingDown && round.running == 0 { break }
                    armNextDeadline(in: &group)
                    armRateTimers(reopensAt: nil, in: &group)
                    continue
                }
                let (excludedKinds, excludedHosts, reopensAt) =
                    limit > 0 ? saturated(after: round.ended, at: instant) : ([], [], nil)
                // One instant for the claim and the next-run_at query (they share a
                // transaction): a job due in between is either claimed or timed. The
                // store takes it when the claim runs (`nowAtClaim`); this is the earliest.
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
                                limit: limit, excludingKinds: excludedKinds, excludingHosts: excludedHosts, now: now,
                                fairShare: options.fairShare, nowAtClaim: true)))
                    if let since = failingSince {
                        logger.notice(
                            "the store records attempts and claims jobs again",
                            metadata: [
                                "ends": "\(ended.count)",
                                "failing.seconds":
                                    "\(String(format: "%.1f", (ContinuousClock.now - since).secondsValue))",
                            ])
                    }
                    failurePause = nil
                    failingSince = nil
                } catch {
                    // Nothing of the round was stored: keep the ends and try again.
                    let pause = min((failurePause ?? .milliseconds(50)) * 2, .seconds(5))
                    failurePause = pause
                    let since = failingSince ?? instant
                    if failingSince == nil || ended.count > keptLogged {
                        // Once per outage, and again only when more ends wait in memory
                        // than last said; the recovery is logged when a round succeeds.
                        keptLogged = ended.count
                        logger.error(
                            "cannot record attempts or claim jobs; keeping \(ended.count) ends in memory, trying again",
                            metadata: ["error": "\(error)", "retry.seconds": "\(pause.secondsValue)"])
                    }
                    failingSince = since
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
                startReady(in: &group)
                admit(outcome.claimed, now: instant, in: &group)
                // Claimed jobs that wait for a rate limit, or went back, took no slot.
                let freeNow = state.withLock { $0.workers - $0.slotted - $0.ready.count }
                if limit > 0 && outcome.claimed.count == limit && freeNow > 0 {
                    // More slots than one claim takes: claim again, after letting the
                    // API's requests run.
                    wakeup.yield()
                    await Task.yield()
                } else if let next = outcome.nextRunAt {
                    arm(timerAt: .now + .seconds(next.timeIntervalSince(Date())), in: &group)
                }
                armNextDeadline(in: &group)
                armRateTimers(reopensAt: reopensAt, in: &group)
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
    private func recordEnded(_ ended: [EndedAttempt], recorded: [Bool]) -> [JobID] {
        guard !ended.isEmpty else { return [] }
        let (running, cancelNow) = state.withLock { state in
            var cancelNow: [JobID] = []
            for (item, wasRecorded) in zip(ended, recorded) {
                if wasRecorded, !AttemptEndPolicy.isTerminal(item.end),
                    let running = state.running[item.job.id], running.attemptID == item.job.attemptID,
                    running.cancelRequested
                {
                    cancelNow.append(item.job.id)
                }
                state.release(item.job.id, attemptID: item.job.attemptID)
            }
            state.finished += ended.count
            return (state.slotted, cancelNow)
        }
        metrics.running.record(running)
        for (item, wasRecorded) in zip(ended, recorded) {
            attemptLog.log(item.end, recorded: wasRecorded, job: item.job)
            if wasRecorded && AttemptEndPolicy.isTerminal(item.end) {
                events.jobFinished(item.job.id)
            }
        }
        return cancelNow
    }

    /// Hands an attempt's end to the loop, which records it in its next round.
    func ended(_ job: ClaimedJob, end: AttemptEnd, wake: Bool = true) {
        metrics.finished(kind: job.spec.kind, outcome: RuntimeMetrics.outcome(end))
        let at = Date()
        state.withLock { $0.ended.append(EndedAttempt(job: job, end: end, at: at)) }
        if wake { wakeup.yield() }
    }

    func runAttempt(_ job: ClaimedJob, stop: OneShot<StopReason>) async {
        let started = ContinuousClock.now
        let outcome = await runner.race(job, stop: stop)
        metrics.runTime(kind: job.spec.kind, ContinuousClock.now - started)
        ended(job, end: endPolicy.end(of: job, outcome))
    }
}
