import JobdStore
import Synchronization

/// The first of a body's result, its deadline, or the caller's cancellation, handed once
/// to a continuation (`PostgresJobStore.withDeadline`).
final class DeadlineRace<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var result: Result<T, any Error>?
        var done = false
        var finished: (@Sendable () -> Void)?
        var cancelled: (@Sendable () -> Void)?
        var wasCancelled = false
    }

    private let state = Mutex(State())

    /// Hands the continuation over; a result that came first resumes it at once.
    func start(_ continuation: CheckedContinuation<T, any Error>) {
        let early = state.withLock { state -> Result<T, any Error>? in
            if let result = state.result { return result }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    /// Offers a result; the first one wins.
    ///
    /// - Returns: True when this one won.
    @discardableResult
    func finish(_ result: Result<T, any Error>) -> Bool {
        let (won, continuation, hook) = state.withLock {
            state -> (Bool, CheckedContinuation<T, any Error>?, (@Sendable () -> Void)?) in
            guard !state.done else { return (false, nil, nil) }
            state.done = true
            let continuation = state.continuation
            state.continuation = nil
            if continuation == nil { state.result = result }
            return (true, continuation, state.finished)
        }
        continuation?.resume(with: result)
        if won { hook?() }
        return won
    }

    /// Runs `hook` when a result wins (at once if one did).
    func onFinish(_ hook: @escaping @Sendable () -> Void) {
        let done = state.withLock { state in
            if !state.done { state.finished = hook }
            return state.done
        }
        if done { hook() }
    }

    /// Runs `hook` when the caller is cancelled (at once if it was).
    func onCancel(_ hook: @escaping @Sendable () -> Void) {
        let cancelled = state.withLock { state in
            if !state.wasCancelled { state.cancelled = hook }
            return state.wasCancelled
        }
        if cancelled { hook() }
    }

    /// The caller was cancelled: the body is cancelled and the caller gets `unavailable`.
    func cancel() {
        let hook = state.withLock { state in
            state.wasCancelled = true
            return state.cancelled
        }
        hook?()
        finish(.failure(StoreError(.unavailable, "cancelled")))
    }
}
