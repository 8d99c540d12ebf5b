import Foundation
import HeapModule
import JobdModel
import JobdStore
import Logging
import Metrics
import Synchronization

extension Dispatcher {
    /// Registers claimed jobs and starts them; jobs over a kind or host limit go back.
    func admit(_ claimed: [ClaimedJob], now: ContinuousClock.Instant, in group: inout DiscardingTaskGroup) {
        guard !claimed.isEmpty else { return }
        var released: [AttemptRef] = []
        var endedAtOnce = false
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
            let admission = state.withLock { state -> (admitted: Bool, cancelPending: Bool) in
                // One claim can return more jobs of a kind or host than it has free
                // slots: the extras go back to the queue untouched.
                let kind = job.spec.kind
                guard state.limits.admits(kind: kind, host: job.host) else { return (false, false) }
                state.running[job.id] = RunningAttempt(attemptID: job.attemptID, kind: kind, host: job.host, stop: stop)
                state.limits.add(kind: kind, host: job.host)
                state.maxRunning = max(state.maxRunning, state.running.count)
                let cancelPending = state.pendingCancels.remove(job.id) != nil
                if let run, !cancelPending, deadline > now {
                    state.timed[job.id] = run
                    state.deadlines.insert(AttemptDeadline(deadline: deadline, jobID: job.id, attemptID: job.attemptID))
                }
                return (true, cancelPending)
            }
            guard admission.admitted else {
                released.append(job.attempt)
                continue
            }
            logger.debug("job started", metadata: AttemptLog.metadata(job))
            metrics.queueWait.record(duration: .milliseconds(Int64(max(0, -job.runAt.timeIntervalSinceNow) * 1000)))
            events.publish(
                .started, jobID: job.id, state: .running, attempt: job.attemptNumber, submitterUID: job.submitterUID)
            if let run {
                if admission.cancelPending {
                    ended(job, end: endPolicy.end(of: job, .stopped(.cancelRequested)), wake: false)
                    endedAtOnce = true
                } else if deadline <= now {
                    // Nothing to wait for (a delay of 0): it ends in the next round.
                    ended(job, end: endPolicy.end(of: job, run.outcome), wake: false)
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
}
