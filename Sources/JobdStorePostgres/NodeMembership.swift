import Foundation
import JobdModel
import JobdStore
import Logging
import Synchronization

/// A node's place in the cluster: its incarnation (`nodes` row), its lease, and whether it
/// leads.
///
/// The loop renews the lease every third of `node.lease`. The lease is judged on the
/// node's own monotonic clock, conservatively: it lasts from the moment the renewal was
/// *sent* (so it ends no later than the database's `lease_until`), less a margin. When it
/// runs out unrenewed, the node stops claiming and its running attempts are stopped
/// (`StoreChange.leaseLost`): by the time the leader sees the lease expired and rescues
/// them, nothing of them runs here. A node whose lease expired never renews it: it joins
/// again as a new incarnation, and its old attempts are the leader's to rescue.
final class NodeMembership: Sendable {
    struct State {
        var nodeID: Int64?
        /// Until when this node may run attempts, on its own clock.
        var validUntil: ContinuousClock.Instant?
        var isLeader = false
        var stopped = false
        /// The lease ran out and the runtime was told; the next renewal joins afresh.
        var lost = false
        /// The renewals are failing (logged once per outage).
        var failing = false
    }

    let name: String
    let lease: Duration
    let state = Mutex(State())

    init(name: String, lease: Duration) {
        self.name = name
        self.lease = lease
    }

    /// How much sooner than the database this node gives up its lease.
    var margin: Duration { min(.seconds(1), lease / 10) }

    /// The current incarnation, if any.
    var nodeID: Int64? { state.withLock { $0.nodeID } }

    /// True while this node leads.
    var isLeader: Bool { state.withLock { $0.isLeader } }

    /// The incarnation that may claim now: nil once the lease ran out.
    var claimingNodeID: Int64? {
        state.withLock { state in
            guard !state.lost, !state.stopped, let until = state.validUntil, until > .now else { return nil }
            return state.nodeID
        }
    }

    func stop() {
        state.withLock { $0.stopped = true }
    }

    /// Records a renewal (or a first registration) that was sent at `sentAt`.
    func renewed(nodeID: Int64, sentAt: ContinuousClock.Instant) {
        state.withLock { state in
            state.nodeID = nodeID
            state.validUntil = sentAt + lease - margin
            state.lost = false
        }
    }

    /// Renews, leads and rescues until the task is cancelled.
    func run(store: PostgresJobStore) async {
        let logger = store.logger
        while !Task.isCancelled, !state.withLock({ $0.stopped }) {
            let sentAt = ContinuousClock.now
            var pause = lease / 3
            do {
                try await renewOrJoin(store: store, sentAt: sentAt)
                let wasFailing = state.withLock { state in
                    defer { state.failing = false }
                    return state.failing
                }
                if wasFailing { logger.notice("PostgreSQL answers again: the node's lease is renewed") }
                let timing = try await store.campaign()
                let (becameLeader, lostLeadership) = state.withLock { state in
                    defer { state.isLeader = timing.isLeader }
                    return (timing.isLeader && !state.isLeader, !timing.isLeader && state.isLeader)
                }
                if becameLeader {
                    logger.notice("this node is the cluster's leader", metadata: ["node.name": "\(name)"])
                    store.announce([.leadershipChanged(true)])
                }
                if lostLeadership {
                    logger.notice("this node is no longer the leader")
                    store.announce([.leadershipChanged(false)])
                }
                if timing.isLeader {
                    let report = try await store.rescue(now: Date())
                    if report.interruptedAttempts > 0 {
                        logger.notice(
                            "rescued the attempts of nodes whose lease ran out",
                            metadata: [
                                "attempts": "\(report.interruptedAttempts)", "requeued": "\(report.requeuedJobs)",
                                "failed": "\(report.failedJobs)",
                            ])
                    }
                }
                // Look again just after the next lease that may run out: the leader's own
                // (to take over), or, for the leader, a node's (to rescue it at once).
                if let next = timing.nextExpiry { pause = min(pause, max(.milliseconds(20), next + .milliseconds(20))) }
            } catch {
                // Stopping (close cancels this loop): the renewal in flight was cut off.
                if Task.isCancelled || state.withLock({ $0.stopped }) { return }
                let first = state.withLock { state in
                    defer { state.failing = true }
                    return !state.failing
                }
                if first {
                    logger.error(
                        "cannot renew the node's lease; trying again", metadata: ["error": "\(error)"])
                }
                pause = min(pause, .seconds(1))
            }
            // Self-fencing: wake at the lease's end even when the database does not answer.
            if let until = state.withLock({ $0.validUntil }), !state.withLock({ $0.lost }) {
                pause = min(pause, max(.zero, until - .now))
            }
            try? await Task.sleep(for: pause)
            checkExpiry(store: store)
        }
    }

    /// Renews the current incarnation, or joins as a new one when there is none (or its
    /// lease ran out).
    private func renewOrJoin(store: PostgresJobStore, sentAt: ContinuousClock.Instant) async throws {
        let (current, lost) = state.withLock { ($0.nodeID, $0.lost) }
        if let current, !lost {
            if try await store.renew(nodeID: current, within: lease / 3) {
                renewed(nodeID: current, sentAt: sentAt)
                return
            }
            // The database let the lease expire first (this node was too slow to renew).
            announceLost(store: store)
        }
        let id = try await store.join(within: lease / 3)
        renewed(nodeID: id, sentAt: sentAt)
        if current != nil {
            store.logger.notice(
                "this node joined the cluster again as a new incarnation",
                metadata: ["node.name": "\(name)", "node.id": "\(id)"])
            // Whatever happened meanwhile elsewhere was not heard here: look again.
            store.announce([.resynchronized])
        }
    }

    /// Tells the runtime once when the lease ran out unrenewed.
    private func checkExpiry(store: PostgresJobStore) {
        let expired = state.withLock { state in
            guard !state.lost, !state.stopped, let until = state.validUntil else { return false }
            return until <= .now
        }
        if expired { announceLost(store: store) }
    }

    private func announceLost(store: PostgresJobStore) {
        let (first, wasLeader) = state.withLock { state in
            defer {
                state.lost = true
                state.isLeader = false
            }
            return (!state.lost, state.isLeader)
        }
        guard first else { return }
        if wasLeader { store.announce([.leadershipChanged(false)]) }
        store.logger.error(
            "this node's lease ran out: it stops its attempts and claims nothing until it joins again",
            metadata: ["node.name": "\(name)"])
        store.announce([.leaseLost])
    }
}
