import Foundation
import HeapModule
import JobdModel
import JobdStore
import Logging
import Synchronization

// The loop's wake-ups at instants: the earliest timed deadline, a timer at any instant,
// and the end of the shutdown grace period.
extension Dispatcher {
    /// Arms a wake-up for the earliest timed deadline, or wakes now when it has passed.
    func armNextDeadline(in group: inout DiscardingTaskGroup) {
        guard let next = state.withLock({ $0.deadlines.min?.deadline }) else { return }
        if next <= .now {
            wakeup.yield()
        } else {
            arm(timerAt: next, in: &group)
        }
    }

    /// Arms a wake-up at `deadline` unless one at or before it is armed already.
    func arm(timerAt deadline: ContinuousClock.Instant, in group: inout DiscardingTaskGroup) {
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

    func interruptAfterGrace() async {
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
        for job in timed { ended(job, end: endPolicy.end(of: job, .stopped(.shutdown)), wake: false) }
        wakeup.yield()
    }
}
