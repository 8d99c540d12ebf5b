import Synchronization

/// A value that is set once and awaited by one waiter, aware of task cancellation.
///
/// `wait()` returns the value when `fulfil` is called (before or after the wait began),
/// or nil when the waiting task is cancelled first.
final class OneShot<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var waiter: CheckedContinuation<Value?, Never>?
        var waitCancelled = false
    }

    private let state = Mutex(State())

    init() {}

    /// Sets the value and wakes the waiter. Later calls do nothing.
    ///
    /// - Returns: True when this call set the value.
    @discardableResult
    func fulfil(_ value: Value) -> Bool {
        let (waiter, didSet): (CheckedContinuation<Value?, Never>?, Bool) = state.withLock { state in
            guard state.value == nil else { return (nil, false) }
            state.value = value
            defer { state.waiter = nil }
            return (state.waiter, true)
        }
        waiter?.resume(returning: value)
        return didSet
    }

    /// The value, if set.
    var value: Value? { state.withLock { $0.value } }

    /// Waits for the value; nil when the task is cancelled first.
    ///
    /// - Important: At most one task may wait.
    func wait() async -> Value? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let immediate: Value?? = state.withLock { state in
                    if let value = state.value { return .some(value) }
                    // The cancellation handler may have run before this closure: then
                    // nobody would ever resume a stored continuation.
                    if state.waitCancelled { return .some(nil) }
                    precondition(state.waiter == nil, "a OneShot allows only one waiter")
                    state.waiter = continuation
                    return .none
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                state.waitCancelled = true
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: nil)
        }
    }
}
