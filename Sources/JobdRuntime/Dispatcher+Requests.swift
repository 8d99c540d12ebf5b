import CoreMetrics
import Foundation
import JobdModel
import JobdStore
import Logging
import Synchronization

/// The requests the API hands to the dispatcher: submits, cancels, retries, pruning and
/// the dispatch switches (workers, pause, resume).
extension Dispatcher {
    /// Changes the global worker limit; takes effect at the next claim. Running jobs above
    /// a lowered limit finish normally.
    ///
    /// - Parameter workers: The new limit, 1 or more.
    public func setWorkers(_ workers: Int) {
        state.withLock { $0.workers = max(1, workers) }
        wakeup.yield()
    }

    /// Stops starting jobs; running jobs go on. Submits are still accepted.
    ///
    /// On an engine shared by many nodes the switch is the cluster's: every node stops
    /// claiming (each hears `pauseChanged`), and a node that starts later starts paused.
    ///
    /// - Throws: `StoreError` when the cluster's switch cannot be written (then nothing
    ///   changed).
    public func pause() async throws {
        try await setPaused(true)
    }

    /// Starts dispatching again after `pause()` (on every node of a cluster).
    ///
    /// - Throws: As `pause()`.
    public func resume() async throws {
        try await setPaused(false)
    }

    private func setPaused(_ paused: Bool) async throws {
        let shared = try await store.setClusterPaused(paused)
        applyPause(paused, cluster: shared)
    }

    /// Sets this node's switch (from a request, or the cluster's change feed); logs a
    /// change once.
    func applyPause(_ paused: Bool, cluster: Bool) {
        let changed = state.withLock { state in
            defer { state.isPaused = paused }
            return state.isPaused != paused
        }
        guard changed else { return }
        logger.info(
            paused ? "dispatching paused" : "dispatching resumed",
            metadata: cluster ? ["scope": "cluster"] : [:])
        if !paused { wakeup.yield() }
    }

    /// Queues a finished job again with a fresh attempt budget.
    ///
    /// Who may retry which job is the server's question (it checks the owner first).
    ///
    /// - Parameter jobID: The job.
    /// - Throws: `DispatchError` `not_found`, or `invalid_state` when the job is queued or
    ///   running; `StoreError`.
    public func retry(_ jobID: JobID) async throws {
        let outcome = try await store.retry(jobID, defaultMaxAttempts: options.defaultMaxAttempts)
        switch outcome {
        case .requeued:
            break  // the change feed's `requeued` wakes the loop
        case .notFinished(let state):
            throw DispatchError(.invalidState, "job \(jobID) is \(state.rawValue); only a finished job can be retried")
        case .notFound:
            throw DispatchError(.notFound, "no job has id \(jobID)")
        }
    }

    /// Deletes finished jobs that finished more than `age` ago, in small transactions.
    ///
    /// - Returns: How many jobs were deleted.
    /// - Throws: `StoreError`.
    public func prune(olderThan age: Duration) async throws -> Int {
        try await pruner.prune(olderThan: age)
    }

    /// Stores new jobs with the daemon's defaults filled in; the change feed's `inserted`
    /// wakes the loop.
    ///
    /// Returns only after the jobs are committed.
    ///
    /// - Parameters:
    ///   - specs: Validated specs.
    ///   - submitterUID: The submitting peer's uid, when known.
    /// - Returns: One outcome per spec, in order.
    /// - Throws: `DispatchError` `shutting_down` during a shutdown, `queue_full` past
    ///   `max_queued`, `key_taken` when a key belongs to another submitter's job;
    ///   `StoreError` when the store cannot commit (then nothing was stored).
    public func submit(_ specs: [JobSpec], submitterUID: UInt32? = nil) async throws -> [InsertOutcome] {
        guard !state.withLock({ $0.isShuttingDown }) else {
            throw DispatchError(.shuttingDown, "jobd is shutting down and accepts no new jobs")
        }
        let now = Date()
        let jobs = specs.map { newJob($0, submitterUID: submitterUID, now: now) }
        let outcomes: [InsertOutcome]
        do {
            outcomes = try await store.insert(jobs, maxQueued: options.maxQueued, now: now)
        } catch let error as StoreError where error.code == .queueFull {
            throw DispatchError(.queueFull, error.message)
        } catch let error as StoreError where error.code == .keyTaken {
            throw DispatchError(.keyTaken, "\(error.message); choose another key")
        }
        let created = outcomes.count { $0.created }
        if created > 0 { metrics.submitted.increment(by: Int64(created)) }
        state.withLock { $0.submitted += created }
        return outcomes
    }

    /// The job to store for `spec`, the daemon's defaults filled in.
    func newJob(_ spec: JobSpec, submitterUID: UInt32?, now: Date) -> NewJob {
        NewJob(
            spec: spec, priority: spec.priority ?? 0, runAt: spec.runAt ?? now,
            maxAttempts: spec.maxAttempts ?? options.defaultMaxAttempts,
            timeout: spec.timeout ?? (spec.kind == .fetch ? options.defaultFetchTimeout : options.defaultDelayTimeout),
            onInterrupt: spec.onInterrupt ?? .retry, submitterUID: submitterUID)
    }

    /// Cancels a job: a queued one at once, a running one by stopping its attempt.
    ///
    /// Who may cancel which job is the server's question (it checks the owner first).
    ///
    /// - Parameter jobID: The job.
    /// - Returns: `cancelled` when it was queued; `running` when its attempt was asked to
    ///   stop (it ends `cancelled` once stopped).
    /// - Throws: `DispatchError` `not_found` or `invalid_state` (already terminal);
    ///   `StoreError`.
    public func cancel(_ jobID: JobID) async throws -> JobState {
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
        case .runningElsewhere:
            // Another node runs it and heard the request; a note here would outlive it and
            // cancel a later attempt of the job that this node might run.
            return .running
        case .alreadyTerminal(let terminal):
            throw DispatchError(.invalidState, "job \(jobID) already \(terminal.rawValue)")
        case .notFound:
            throw DispatchError(.notFound, "no job has id \(jobID)")
        }
    }
}

extension Dispatcher {
    /// Stores the jobs of a schedule's slots, each keyed `schedule:<name>:<slot>` and due
    /// at its slot, as the schedule's owner; a slot already fired answers its existing job.
    /// Schedules are the operator's: their jobs do not count against `max_queued`.
    ///
    /// - Returns: One outcome per slot, in order.
    /// - Throws: `StoreError` when the store cannot commit (then nothing was stored).
    func fireSchedule(_ record: ScheduleRecord, slots: [Date]) async throws -> [InsertOutcome] {
        let now = Date()
        let jobs = slots.map { slot in
            var spec = record.spec.job
            spec.key = record.spec.key(forSlot: slot)
            spec.runAt = slot
            return newJob(spec, submitterUID: record.ownerUID, now: now)
        }
        let outcomes = try await store.insert(jobs, maxQueued: nil, now: now)
        let created = outcomes.count { $0.created }
        if created > 0 { metrics.submitted.increment(by: Int64(created)) }
        state.withLock { $0.submitted += created }
        return outcomes
    }
}
