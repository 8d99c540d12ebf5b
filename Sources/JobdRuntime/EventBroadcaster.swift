import Foundation
import JobdModel
import Synchronization

/// Tells waiting requests when a job reaches a terminal state.
///
/// `GET /v1/jobs/{id}/wait` registers before it reads the job, so a finish that lands
/// between the read and the wait is never missed.
public final class EventBroadcaster: Sendable {
    private struct State {
        var waiters: [JobID: [UInt64: OneShot<Void>]] = [:]
        var nextToken: UInt64 = 0
        var isClosed = false
    }

    private let state = Mutex(State())

    public init() {}

    /// A registration for one job's end; `wait` on it, then `cancel` it.
    public struct Registration: Sendable {
        let jobID: JobID
        let token: UInt64
        let signal: OneShot<Void>
    }

    /// Registers interest in `jobID` reaching a terminal state.
    public func register(_ jobID: JobID) -> Registration {
        let signal = OneShot<Void>()
        let (token, closed) = state.withLock { state in
            state.nextToken += 1
            if !state.isClosed { state.waiters[jobID, default: [:]][state.nextToken] = signal }
            return (state.nextToken, state.isClosed)
        }
        if closed { signal.fulfil(()) }
        return Registration(jobID: jobID, token: token, signal: signal)
    }

    /// Waits until the job is terminal, the timeout passes, or the daemon stops.
    ///
    /// - Returns: True when woken by a finish (or a stop); false on timeout or cancellation.
    public func wait(_ registration: Registration, timeout: Duration, clock: any Clock<Duration> = ContinuousClock())
        async -> Bool
    {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { await registration.signal.wait() != nil }
            group.addTask {
                try? await clock.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    /// Removes a registration.
    public func cancel(_ registration: Registration) {
        state.withLock { state in
            state.waiters[registration.jobID]?[registration.token] = nil
            if state.waiters[registration.jobID]?.isEmpty == true { state.waiters[registration.jobID] = nil }
        }
    }

    /// Wakes everyone waiting on `jobID`.
    public func jobFinished(_ jobID: JobID) {
        let signals = state.withLock { $0.waiters.removeValue(forKey: jobID) }
        for signal in signals?.values ?? [:].values { signal.fulfil(()) }
    }

    /// Wakes every waiter and makes future registrations return at once (daemon stop).
    public func close() {
        let all = state.withLock { state in
            state.isClosed = true
            defer { state.waiters = [:] }
            return state.waiters
        }
        for signals in all.values { for signal in signals.values { signal.fulfil(()) } }
    }
}
