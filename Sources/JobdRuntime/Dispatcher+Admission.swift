import Foundation
import HeapModule
import JobdModel
import JobdStore
import Logging
import Metrics
import Synchronization

extension Dispatcher {
    /// How a claimed job was taken in.
    private enum Admission {
        /// Over a kind or host limit, or its host's rate is booked beyond its reach: it
        /// goes back to the queue untouched.
        case goesBack
        /// Registered, waiting for its host's rate limit without a slot.
        case waits
        /// Registered and starting now.
        case starts(cancelPending: Bool)
    }

    /// Registers claimed jobs and starts them; jobs over a kind or host limit go back, and
    /// fetches whose host's token is not due yet wait for it without a worker slot.
    func admit(_ claimed: [ClaimedJob], now: ContinuousClock.Instant, in group: inout DiscardingTaskGroup) {
        guard !claimed.isEmpty else { return }
        var released: [AttemptRef] = []
        var endedAtOnce = false
        var waits = 0
        // The round's instant is from before the store's round trip; tokens are booked
        // from the present, so a wait is never shorter than its rate asks.
        let rateNow = ContinuousClock.now
        let wallNow = Date()
        for job in claimed {
            let timed = executors[job.spec.kind] as? any TimedJobExecutor
            var run: TimedRun?
            var deadline = now
            if let timed {
                let plan = timed.plan(job)
                var outcome = AttemptRace.finished(plan.outcome.mapError { $0 as any Error })
                var duration = plan.duration
                if let timeout = job.timeout, Duration.seconds(timeout) < duration {
                    duration = .seconds(timeout)
                    outcome = .timedOut
                }
                deadline = now + duration
                run = TimedRun(job: job, outcome: outcome)
            }
            let stop = timed == nil ? OneShot<StopReason>() : nil
            let admission = state.withLock { state -> Admission in
                // One claim can return more jobs of a kind or host than it has free
                // slots: the extras go back to the queue untouched.
                let kind = job.spec.kind
                guard state.limits.admits(kind: kind, host: job.host) else { return .goesBack }
                if timed == nil, let host = job.host, let rate = state.rateLimiter.rate(for: host),
                    !state.pendingCancels.contains(job.id)
                {
                    // A claim may take more of a host's jobs than its reach allows.
                    guard state.rateLimiter.admits(host: host, rate: rate, now: rateNow) else { return .goesBack }
                    let startsAt = state.rateLimiter.reserve(host: host, rate: rate, now: rateNow)
                    if startsAt > rateNow {
                        state.registerWait(
                            RateWait(
                                job: job, host: host, startsAt: startsAt,
                                startsAtDate: wallNow.addingTimeInterval((startsAt - rateNow).secondsValue)))
                        return .waits
                    }
                }
                state.register(job.id, RunningAttempt(attemptID: job.attemptID, kind: kind, host: job.host, stop: stop))
                state.limits.add(kind: kind, host: job.host)
                state.maxRunning = max(state.maxRunning, state.slotted)
                let cancelPending = state.pendingCancels.remove(job.id) != nil
                // The cancel was answered `running`: whatever end the attempt reaches (an
                // executor that fails at once can beat the stop signal), it must not run again.
                if cancelPending { state.running[job.id]?.cancelRequested = true }
                if let run, !cancelPending, deadline > now {
                    state.timed[job.id] = run
                    state.deadlines.insert(AttemptDeadline(deadline: deadline, jobID: job.id, attemptID: job.attemptID))
                }
                return .starts(cancelPending: cancelPending)
            }
            let cancelPending: Bool
            switch admission {
            case .goesBack:
                released.append(job.attempt)
                continue
            case .waits:
                waits += 1
                metrics.rateLimitWaits.increment()
                logger.debug(
                    "job waits for its host's rate limit",
                    metadata: AttemptLog.metadata(job).merging(["fetch.host": "\(job.host ?? "")"]) { $1 })
                continue
            case .starts(let pending):
                cancelPending = pending
            }
            announceStart(job)
            if let run {
                if cancelPending {
                    ended(job, end: endPolicy.end(of: job, .stopped(.cancelRequested)), wake: false)
                    endedAtOnce = true
                } else if deadline <= now {
                    // Nothing to wait for (a delay of 0): it ends in the next round.
                    ended(job, end: endPolicy.end(of: job, run.outcome), wake: false)
                    endedAtOnce = true
                }
            } else if let stop {
                if cancelPending { stop.fulfil(.cancelRequested) }
                group.addTask { await self.runAttempt(job, stop: stop) }
            }
        }
        if endedAtOnce || (waits > 0 && state.withLock({ $0.isShuttingDown })) { wakeup.yield() }
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

    /// Logs, measures and announces an attempt that starts now.
    func announceStart(_ job: ClaimedJob) {
        logger.debug("job started", metadata: AttemptLog.metadata(job))
        metrics.queueWait.record(duration: .milliseconds(Int64(max(0, -job.runAt.timeIntervalSinceNow) * 1000)))
        events.publish(
            .started, jobID: job.id, state: .running, attempt: job.attemptNumber, submitterUID: job.submitterUID)
    }

    /// The kinds and hosts at their limits, which the next claim skips, counting the
    /// `ended` attempts (recorded in the same round) as gone; with the hosts whose rate is
    /// booked beyond its reach, and when the first of those is within reach again.
    func saturated(after ended: [EndedAttempt], at now: ContinuousClock.Instant) -> (
        kinds: Set<JobKind>, hosts: Set<String>, reopensAt: ContinuousClock.Instant?
    ) {
        state.withLock { state in
            let leaving = ended.compactMap { item -> (kind: JobKind?, host: String?)? in
                guard let running = state.running[item.job.id], running.attemptID == item.job.attemptID else {
                    return nil
                }
                // An attempt that ended while it waited for a rate limit never counted
                // against its kind.
                return (running.isStarted ? running.kind : nil, running.host)
            }
            var (kinds, hosts) = state.limits.saturated(leaving: leaving)
            let booked = state.rateLimiter.saturated(at: now)
            hosts.formUnion(booked.hosts)
            return (kinds, hosts, booked.reopensAt)
        }
    }
}
