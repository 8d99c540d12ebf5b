import Foundation
import JobdModel
import Synchronization

/// Tells waiting requests when a job reaches a terminal state, and streams every job
/// event to `/v1/events` subscribers.
///
/// `GET /v1/jobs/{id}/wait` registers before it reads the job, so a finish that lands
/// between the read and the wait is never missed. Each subscriber has a bounded buffer:
/// one that falls `subscriberBuffer` events behind is dropped (its stream ends and it is
/// marked lagged) instead of slowing the daemon.
public final class EventBroadcaster: Sendable {
    private struct State {
        var waiters: [JobID: [UInt64: OneShot<Void>]] = [:]
        var batchWaiters: [BatchID: [UInt64: OneShot<Void>]] = [:]
        var subscribers: [UInt64: Subscriber] = [:]
        var nextToken: UInt64 = 0
        var nextEventID: UInt64 = 0
        var isClosed = false
    }

    private struct Subscriber {
        var continuation: AsyncStream<JobEvent>.Continuation
        var lagged: LaggedFlag
        /// Only events of jobs this uid submitted; nil: every event.
        var submitterUID: UInt32?
    }

    /// How many events a subscriber may fall behind before it is dropped.
    public let subscriberBuffer: Int

    private let state = Mutex(State())

    /// Makes a broadcaster.
    ///
    /// - Parameter subscriberBuffer: How many events a subscriber may fall behind.
    public init(subscriberBuffer: Int = 4096) {
        self.subscriberBuffer = subscriberBuffer
    }

    /// A live event subscription.
    public struct Subscription: Sendable {
        /// The events from the moment of subscribing. Ends when the daemon stops, or when
        /// this subscriber lagged (`isLagged`).
        public let events: AsyncStream<JobEvent>
        let token: UInt64
        let lagged: LaggedFlag

        /// True when the stream ended because this subscriber fell too far behind.
        public var isLagged: Bool { lagged.value }
    }

    /// Subscribes to events from now on; `unsubscribe` when done.
    ///
    /// - Parameter submitterUID: Only events of jobs this uid submitted (a user who may see
    ///   only their own jobs); the others never reach this subscriber's buffer. Nil: every
    ///   job's events.
    public func subscribe(submitterUID: UInt32? = nil) -> Subscription {
        let (stream, continuation) = AsyncStream.makeStream(
            of: JobEvent.self, bufferingPolicy: .bufferingOldest(subscriberBuffer))
        let lagged = LaggedFlag()
        let (token, closed) = state.withLock { state in
            state.nextToken += 1
            if !state.isClosed {
                state.subscribers[state.nextToken] = Subscriber(
                    continuation: continuation, lagged: lagged, submitterUID: submitterUID)
            }
            return (state.nextToken, state.isClosed)
        }
        if closed { continuation.finish() }
        return Subscription(events: stream, token: token, lagged: lagged)
    }

    /// Ends a subscription.
    public func unsubscribe(_ subscription: Subscription) {
        let subscriber = state.withLock { $0.subscribers.removeValue(forKey: subscription.token) }
        subscriber?.continuation.finish()
    }

    /// Sends an event to every subscriber that may see it, numbering it.
    ///
    /// Never waits: a subscriber whose buffer is full is dropped.
    ///
    /// - Parameter submitterUID: The uid that submitted the job: subscribers limited to
    ///   another uid do not get the event. Nil (no recorded submitter) reaches only
    ///   unlimited subscribers.
    public func publish(
        _ type: JobEventType, jobID: JobID, state jobState: JobState, attempt: Int? = nil, error: JobError? = nil,
        runAt: Date? = nil, submitterUID: UInt32? = nil
    ) {
        deliver(submitterUID: submitterUID) { id in
            JobEvent(id: id, type: type, jobID: jobID, state: jobState, attempt: attempt, error: error, runAt: runAt)
        }
    }

    /// Sends a batch's event (`batch_completed`) to every subscriber that may see it.
    ///
    /// - Parameters:
    ///   - state: The batch's end state, spelled as a job state.
    ///   - jobID: The job the event names besides the batch (its `on_complete`), if any.
    public func publishBatch(
        _ type: JobEventType, batchID: BatchID, state jobState: JobState, jobID: JobID?, submitterUID: UInt32?
    ) {
        deliver(submitterUID: submitterUID) { id in
            JobEvent(id: id, type: type, jobID: jobID, state: jobState, batchID: batchID)
        }
    }

    /// Numbers an event and hands it to every subscriber that may see it; drops the ones
    /// whose buffer is full.
    private func deliver(submitterUID: UInt32?, _ makeEvent: (UInt64) -> JobEvent) {
        var dropped: [Subscriber] = []
        state.withLock { state in
            state.nextEventID += 1
            guard !state.subscribers.isEmpty else { return }
            let event = makeEvent(state.nextEventID)
            for (token, subscriber) in state.subscribers {
                if let only = subscriber.submitterUID, only != submitterUID { continue }
                if case .dropped = subscriber.continuation.yield(event) {
                    subscriber.lagged.set()
                    dropped.append(subscriber)
                    state.subscribers[token] = nil
                }
            }
        }
        for subscriber in dropped { subscriber.continuation.finish() }
    }

    /// How many `/v1/events` subscribers are connected.
    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// The id the next event will get, minus one (the `lagged` event reuses it).
    public var lastEventID: UInt64 { state.withLock { $0.nextEventID } }

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
        await Self.wait(for: registration.signal, timeout: timeout, clock: clock)
    }

    /// True when `signal` fires before the timeout; false on timeout or cancellation.
    private static func wait(for signal: OneShot<Void>, timeout: Duration, clock: any Clock<Duration>) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { await signal.wait() != nil }
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

    /// The jobs someone waits for now.
    public func waitedJobIDs() -> [JobID] {
        state.withLock { Array($0.waiters.keys) }
    }

    /// Wakes everyone waiting on `jobID`.
    public func jobFinished(_ jobID: JobID) {
        let signals = state.withLock { $0.waiters.removeValue(forKey: jobID) }
        for signal in signals?.values ?? [:].values { signal.fulfil(()) }
    }

    /// A registration for one batch's end; `wait` on it, then `cancel` it.
    public struct BatchRegistration: Sendable {
        let batchID: BatchID
        let token: UInt64
        let signal: OneShot<Void>
    }

    /// Registers interest in `batchID` finishing; register before reading the batch, so an
    /// end between the read and the wait still wakes the waiter.
    public func register(batch batchID: BatchID) -> BatchRegistration {
        let signal = OneShot<Void>()
        let (token, closed) = state.withLock { state in
            state.nextToken += 1
            if !state.isClosed { state.batchWaiters[batchID, default: [:]][state.nextToken] = signal }
            return (state.nextToken, state.isClosed)
        }
        if closed { signal.fulfil(()) }
        return BatchRegistration(batchID: batchID, token: token, signal: signal)
    }

    /// Waits until the batch finishes, the timeout passes, or the daemon stops.
    ///
    /// - Returns: True when woken; false on timeout or cancellation.
    public func wait(
        _ registration: BatchRegistration, timeout: Duration, clock: any Clock<Duration> = ContinuousClock()
    ) async -> Bool {
        await Self.wait(for: registration.signal, timeout: timeout, clock: clock)
    }

    /// Removes a batch registration.
    public func cancel(_ registration: BatchRegistration) {
        state.withLock { state in
            state.batchWaiters[registration.batchID]?[registration.token] = nil
            if state.batchWaiters[registration.batchID]?.isEmpty == true {
                state.batchWaiters[registration.batchID] = nil
            }
        }
    }

    /// Wakes everyone waiting on `batchID`.
    public func batchFinished(_ batchID: BatchID) {
        let signals = state.withLock { $0.batchWaiters.removeValue(forKey: batchID) }
        for signal in signals?.values ?? [:].values { signal.fulfil(()) }
    }

    /// Wakes every batch waiter, to read its batch again (the change feed missed changes).
    public func wakeBatchWaiters() {
        let all = state.withLock { state in
            defer { state.batchWaiters = [:] }
            return state.batchWaiters
        }
        for signals in all.values { for signal in signals.values { signal.fulfil(()) } }
    }

    /// Wakes every waiter, ends every subscription, and makes future registrations return
    /// at once (daemon stop).
    public func close() {
        let (all, batches, subscribers) = state.withLock { state in
            state.isClosed = true
            defer {
                state.waiters = [:]
                state.batchWaiters = [:]
                state.subscribers = [:]
            }
            return (state.waiters, state.batchWaiters, state.subscribers)
        }
        for signals in all.values { for signal in signals.values { signal.fulfil(()) } }
        for signals in batches.values { for signal in signals.values { signal.fulfil(()) } }
        for subscriber in subscribers.values { subscriber.continuation.finish() }
    }
}

/// A flag set once when a subscriber is dropped for lagging.
final class LaggedFlag: Sendable {
    private let flag = Mutex(false)
    var value: Bool { flag.withLock { $0 } }
    func set() { flag.withLock { $0 = true } }
}
