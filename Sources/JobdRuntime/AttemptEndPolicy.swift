import Foundation
import JobdModel
import JobdStore

/// Decides how an attempt ended (the retry policy): success, a failure with or without a
/// retry (exponential backoff with full jitter, `Retry-After` honoured), a cancel, an
/// interruption; and what a cancel answered `running` does to that end.
///
/// Policy lives here, in the runtime; the store writes the `AttemptEnd` it is given.
struct AttemptEndPolicy: Sendable {
    let options: RuntimeOptions

    /// The end of `job`'s attempt that came out of its race as `outcome`.
    func end(of job: ClaimedJob, _ outcome: AttemptRace, now: Date = Date()) -> AttemptEnd {
        let failure: ExecutionFailure
        switch outcome {
        case .finished(.success(let result)):
            return .succeeded(result)
        case .finished(.failure(let error as ExecutionFailure)):
            failure = error
        case .finished(.failure(let error)):
            failure = ExecutionFailure(.internal, "the attempt failed: \(error)")
        case .timedOut:
            let seconds = job.timeout.map { String(format: "%g", $0) } ?? "?"
            failure = ExecutionFailure(.timeout, "the attempt ran past its \(seconds)s timeout")
        case .stopped(.cancelRequested):
            return .cancelled(JobError(.cancelled, "cancelled by request while running"))
        case .stopped(.shutdown):
            let error = JobError(.interrupted, "the daemon stopped while this attempt ran")
            if (job.spec.onInterrupt ?? .retry) == .fail {
                return .failed(error, result: nil, retryAt: nil)
            }
            return .interrupted(error)
        case .stopped(.leaseLost):
            // Written only if the attempt still owns the job, which a lost lease rules out:
            // the store fences it out and the leader's rescue records the interruption.
            return .interrupted(JobError(.interrupted, "this node lost its lease while the attempt ran"))
        }
        var retryAt: Date?
        if failure.error.isRetryable, job.attemptsUsed < job.maxAttempts {
            var delay = options.retryDelay(afterAttempt: job.attemptsUsed)
            if let retryAfter = failure.retryAfter {
                // The server said when to come back (429/503): never sooner, at most an hour.
                delay = max(delay, min(retryAfter, .seconds(3600)))
            }
            retryAt = now.addingTimeInterval(delay.secondsValue)
        }
        return .failed(failure.error, result: failure.result, retryAt: retryAt)
    }

    /// The end of an attempt whose job a user cancelled while it ran: a success or a final
    /// failure stands (it happened first), but nothing that would run the job again.
    static func honouringCancel(_ end: AttemptEnd) -> AttemptEnd {
        switch end {
        case .succeeded, .cancelled, .failed(_, _, retryAt: nil):
            return end
        case .failed, .interrupted:
            return .cancelled(JobError(.cancelled, "cancelled by request while running"))
        }
    }

    static func isTerminal(_ end: AttemptEnd) -> Bool {
        switch end {
        case .succeeded, .cancelled: true
        case .failed(_, _, let retryAt): retryAt == nil
        case .interrupted: false
        }
    }
}
