import Foundation
import HeapModule
import JobdModel
import JobdStore
import Logging
import Synchronization

// Fetches waiting for their host's rate limit (`limits.per_host_rate`, `limits.host_rates`):
// claimed and registered, so a cancel, a shutdown or a lost lease reaches them, but
// holding no worker slot until their token is due and a slot is free.
extension Dispatcher {
    /// The rate-limit wait of a job this dispatcher holds, if it waits for one.
    ///
    /// Only the node holding the job knows: on an engine with many nodes, another node
    /// answers nil for a job that waits there.
    ///
    /// - Parameter jobID: The job.
    /// - Returns: The host and when its token is due; nil when the job does not wait here.
    public func rateLimitWait(of jobID: JobID) -> RateLimitWait? {
        state.withLock { state in
            state.waiting[jobID].map { RateLimitWait(host: $0.host, startsAt: $0.startsAtDate) }
        }
    }

    /// Each host this dispatcher fetches from now: started fetches (holding a worker slot)
    /// and fetches waiting for the host's rate limit, by host, busiest first.
    public var hostFigures: [HostFigures] {
        state.withLock { state in
            var figures: [String: HostFigures] = [:]
            for attempt in state.running.values where attempt.isStarted {
                guard let host = attempt.host else { continue }
                figures[host, default: HostFigures(host: host)].running += 1
            }
            for wait in state.waiting.values {
                figures[wait.host, default: HostFigures(host: wait.host)].rateLimited += 1
            }
            return figures.values.sorted {
                ($0.running + $0.rateLimited, $1.host) > ($1.running + $1.rateLimited, $0.host)
            }
        }
    }

    /// Replaces the hosts' rates (a reload); takes effect at the next claim.
    ///
    /// A host whose rate changed starts over with a full bucket; jobs already waiting keep
    /// the start they were given.
    ///
    /// - Parameter table: The new rates.
    public func setHostRates(_ table: HostRateTable) {
        state.withLock { $0.rateLimiter.setTable(table) }
        wakeup.yield()
    }

    /// Starts waits whose token is due, as many as there are free slots (and as their
    /// kind's limit allows), oldest token first. Nothing starts while paused or stopping.
    func startReady(in group: inout DiscardingTaskGroup) {
        let starting: [(ClaimedJob, OneShot<StopReason>)] = state.withLock { state in
            guard !state.ready.isEmpty, !state.isPaused, !state.isShuttingDown else { return [] }
            var starting: [(ClaimedJob, OneShot<StopReason>)] = []
            var taken = 0
            while taken < state.ready.count, state.slotted < state.workers {
                let ref = state.ready[taken]
                guard let wait = state.waiting[ref.jobID], wait.job.attemptID == ref.attemptID else {
                    // Ended while it waited (a cancel): nothing to start.
                    taken += 1
                    continue
                }
                guard state.limits.admits(kind: wait.job.spec.kind) else { break }
                taken += 1
                let stop = OneShot<StopReason>()
                state.start(wait, stop: stop)
                starting.append((wait.job, stop))
            }
            state.ready.removeFirst(taken)
            return starting
        }
        for (job, stop) in starting {
            announceStart(job)
            group.addTask { await self.runAttempt(job, stop: stop) }
        }
    }

    /// Puts every wait back in the queue, as if it had never been claimed (its attempt
    /// never ran, so it uses nothing): the first step of a graceful shutdown.
    ///
    /// A wait that cannot be released stays `running` on disk; start-up recovery
    /// re-queues it.
    func releaseWaitsForShutdown() async {
        let waits = state.withLock { state in
            let waits = state.takeAllWaits()
            for wait in waits { state.release(wait.job.id, attemptID: wait.job.attemptID) }
            return waits
        }
        guard !waits.isEmpty else { return }
        do {
            try await store.release(waits.map(\.job.attempt))
            logger.info(
                "shutdown: fetches waiting for a rate limit go back to the queue", metadata: ["jobs": "\(waits.count)"])
        } catch {
            logger.error(
                "shutdown: cannot put fetches waiting for a rate limit back in the queue; they are recovered at the next start",
                metadata: ["jobs": "\(waits.count)", "error": "\(error)"])
        }
    }

    /// The end of a wait stopped before its attempt started.
    func endOfWait(_ wait: RateWait, _ reason: StopReason) -> AttemptEnd {
        guard reason == .cancelRequested else { return endPolicy.end(of: wait.job, .stopped(reason)) }
        return .cancelled(
            JobError(.cancelled, "cancelled by request while waiting for the rate limit of \(wait.host)"))
    }

    /// Arms a wake-up for the earliest token of a wait, and for the instant a saturated
    /// host is within reach again (`reopensAt`), so its queued jobs are claimed then.
    func armRateTimers(reopensAt: ContinuousClock.Instant?, in group: inout DiscardingTaskGroup) {
        let nextToken = state.withLock { $0.waitDeadlines.min?.deadline }
        for instant in [nextToken, reopensAt].compactMap(\.self) {
            if instant <= .now {
                wakeup.yield()
            } else {
                arm(timerAt: instant, in: &group)
            }
        }
    }
}
