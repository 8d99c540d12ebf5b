import Synchronization
import Testing

/// Keeps the heavy suites from starving the timing-sensitive ones.
///
/// A `.heavy` test (a connection flood, a 100,000-job batch, storage faults on loop
/// devices) takes the machine for itself: it starts only when no other heavy or
/// timing-sensitive test runs, and none starts while it runs. `.timingSensitive` tests
/// (watchdog pings, gather concurrency, kill -9 mid-attempt, shutdown grace) run beside
/// each other and beside unmarked tests. Their assertions hold on a slow machine anyway;
/// this keeps them from learning what a flood of 16,000 connections does to a 2-core box.
/// Waiters are let in first come, first served, so neither kind starves the other.
struct MachineLoad: SuiteTrait, TestTrait, TestScoping {
    /// True for `.heavy`.
    let isExclusive: Bool

    /// Nested suites get it too.
    var isRecursive: Bool { true }

    /// One scope per test case (each run of the function), not one for a whole suite:
    /// other tests can run between the tests of a heavy suite.
    func scopeProvider(for test: Test, testCase: Test.Case?) -> MachineLoad? {
        testCase == nil ? nil : self
    }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        await MachineLoadGate.shared.enter(exclusive: isExclusive)
        defer { MachineLoadGate.shared.leave(exclusive: isExclusive) }
        try await function()
    }
}

extension Trait where Self == MachineLoad {
    /// The test takes the machine for itself.
    static var heavy: MachineLoad { MachineLoad(isExclusive: true) }
    /// The test never runs beside a `.heavy` one.
    static var timingSensitive: MachineLoad { MachineLoad(isExclusive: false) }
}

/// A first-come-first-served shared/exclusive gate for `MachineLoad`.
final class MachineLoadGate: Sendable {
    static let shared = MachineLoadGate()

    private struct Waiter {
        var exclusive: Bool
        var continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var sharedHolders = 0
        var exclusiveHeld = false
        var queue: [Waiter] = []

        func admits(exclusive: Bool) -> Bool {
            exclusive ? !exclusiveHeld && sharedHolders == 0 : !exclusiveHeld
        }

        mutating func take(exclusive: Bool) {
            if exclusive { exclusiveHeld = true } else { sharedHolders += 1 }
        }

        /// Takes the gate for the waiters at the head of the queue that it admits now.
        mutating func admitWaiting() -> [CheckedContinuation<Void, Never>] {
            var admitted: [CheckedContinuation<Void, Never>] = []
            while let first = queue.first, admits(exclusive: first.exclusive) {
                queue.removeFirst()
                take(exclusive: first.exclusive)
                admitted.append(first.continuation)
            }
            return admitted
        }
    }

    private let state = Mutex(State())

    func enter(exclusive: Bool) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let admitted = state.withLock { state -> Bool in
                guard state.queue.isEmpty, state.admits(exclusive: exclusive) else {
                    state.queue.append(Waiter(exclusive: exclusive, continuation: continuation))
                    return false
                }
                state.take(exclusive: exclusive)
                return true
            }
            if admitted { continuation.resume() }
        }
    }

    func leave(exclusive: Bool) {
        let admitted = state.withLock { state in
            if exclusive { state.exclusiveHeld = false } else { state.sharedHolders -= 1 }
            return state.admitWaiting()
        }
        for continuation in admitted { continuation.resume() }
    }
}
