import JobdModel
import JobdStore
import Logging
import Synchronization

// What the dispatcher does for an engine with many nodes: stop its attempts when its
// lease is gone, and catch up on finishes it did not hear of.
extension Dispatcher {
    /// Stops every running attempt: the node's lease ran out, so the leader may already
    /// have given their jobs to another node. Their ends are fenced out by the store.
    func stopAllForLostLease() {
        let (stops, timed, waits) = state.withLock { state in
            let stops = state.running.values.compactMap(\.stop)
            let timed = state.timed.values.map(\.job)
            state.timed.removeAll()
            return (stops, timed, state.takeAllWaits())
        }
        guard !stops.isEmpty || !timed.isEmpty || !waits.isEmpty else { return }
        logger.error(
            "this node's lease ran out: stopping its running attempts (another node may run them now)",
            metadata: ["attempts": "\(stops.count + timed.count + waits.count)"])
        for stop in stops { stop.fulfil(.leaseLost) }
        for job in timed { ended(job, end: endPolicy.end(of: job, .stopped(.leaseLost)), wake: false) }
        // Waits never started: their ends are fenced out like the others'.
        for wait in waits { ended(wait.job, end: endOfWait(wait, .leaseLost), wake: false) }
        wakeup.yield()
    }

    /// Reads the cluster's pause switch again: a change while the notifications were lost
    /// passed unheard.
    func reloadClusterPause() {
        let store = self.store
        Task { [weak self] in
            if let paused = try? await store.clusterPaused() { self?.applyPause(paused, cluster: true) }
        }
    }

    /// Reads the job of every waiter and wakes those whose job is finished: after the
    /// engine's notifications were lost for a while, a finish elsewhere may have passed
    /// unheard.
    func recheckWaiters() {
        let ids = events.waitedJobIDs()
        guard !ids.isEmpty else { return }
        let store = self.store
        let events = self.events
        Task {
            for id in ids {
                if let record = try? await store.job(id), record.state.isTerminal { events.jobFinished(id) }
            }
        }
    }
}
