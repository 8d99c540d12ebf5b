import JobdModel
import JobdStore

/// Runs delay jobs: sleep on the injected clock, then return the value or raise `fail`.
public struct DelayExecutor: JobExecutor {
    let clock: any Clock<Duration>

    /// Makes an executor that sleeps on `clock`.
    public init(clock: any Clock<Duration> = ContinuousClock()) {
        self.clock = clock
    }

    /// Sleeps `seconds`, then returns `value` (JSON null when absent).
    ///
    /// - Throws: `ExecutionFailure` with `job_failed` when the spec has `fail`, after the
    ///   sleep; `CancellationError` when cancelled during the sleep.
    public func execute(_ job: ClaimedJob) async throws -> JobResult {
        guard case .delay(let delay) = job.spec.payload else {
            throw ExecutionFailure(.internal, "the delay executor got a \(job.spec.kind) job")
        }
        if delay.seconds > 0 {
            try await clock.sleep(for: .nanoseconds(Int64((delay.seconds * 1e9).rounded())))
        }
        try Task.checkCancellation()
        if let message = delay.fail {
            throw ExecutionFailure(.jobFailed, message)
        }
        return .delay(DelayResult(value: delay.value ?? .null))
    }
}
