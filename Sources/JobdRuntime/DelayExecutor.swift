import JobdModel
import JobdStore

/// Runs delay jobs: wait `seconds`, then return the value or raise `fail`.
///
/// The dispatcher runs delay attempts from its deadline heap through `plan(_:)`;
/// `execute(_:)` does the same by sleeping on the injected clock.
public struct DelayExecutor: TimedJobExecutor {
    let clock: any Clock<Duration>

    /// Makes an executor that sleeps on `clock` in `execute`.
    public init(clock: any Clock<Duration> = ContinuousClock()) {
        self.clock = clock
    }

    /// `seconds`, then `value` (JSON null when absent), or `job_failed` when the spec has `fail`.
    public func plan(_ job: ClaimedJob) -> TimedAttempt {
        guard case .delay(let delay) = job.spec.payload else {
            return TimedAttempt(
                duration: .zero,
                outcome: .failure(ExecutionFailure(.internal, "the delay executor got a \(job.spec.kind) job")))
        }
        let duration: Duration = delay.seconds > 0 ? .nanoseconds(Int64((delay.seconds * 1e9).rounded())) : .zero
        if let message = delay.fail {
            return TimedAttempt(duration: duration, outcome: .failure(ExecutionFailure(.jobFailed, message)))
        }
        return TimedAttempt(duration: duration, outcome: .success(.delay(DelayResult(value: delay.value ?? .null))))
    }

    /// Sleeps `seconds`, then returns `value` (JSON null when absent).
    ///
    /// - Throws: `ExecutionFailure` with `job_failed` when the spec has `fail`, after the
    ///   sleep; `CancellationError` when cancelled during the sleep.
    public func execute(_ job: ClaimedJob) async throws -> JobResult {
        let plan = plan(job)
        if plan.duration > .zero {
            try await clock.sleep(for: plan.duration)
        }
        try Task.checkCancellation()
        return try plan.outcome.get()
    }
}
