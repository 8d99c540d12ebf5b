import Foundation
import JobdModel

/// A recorded attempt end as the change feed reports it: what events and waiters need, on
/// the node that wrote it and on every other node of a cluster (no result body).
public struct FinishedAttempt: Sendable, Hashable {
    /// The job.
    public var jobID: JobID
    /// The attempt's number.
    public var attemptNumber: Int
    /// How the attempt ended (never `running`).
    public var outcome: AttemptOutcome
    /// The attempt's error, for every outcome but `succeeded`.
    public var error: JobError?
    /// For a failed attempt whose job was queued again: when it runs next.
    public var retryAt: Date?
    /// The job's submitter (events are filtered by it).
    public var submitterUID: UInt32?

    /// Describes a recorded end.
    ///
    /// - Parameters:
    ///   - jobID: The job.
    ///   - attemptNumber: The attempt's number.
    ///   - outcome: How it ended.
    ///   - error: Its error, if any.
    ///   - retryAt: When a re-queued job runs next.
    ///   - submitterUID: The job's submitter.
    public init(
        jobID: JobID, attemptNumber: Int, outcome: AttemptOutcome, error: JobError? = nil, retryAt: Date? = nil,
        submitterUID: UInt32? = nil
    ) {
        self.jobID = jobID
        self.attemptNumber = attemptNumber
        self.outcome = outcome
        self.error = error
        self.retryAt = retryAt
        self.submitterUID = submitterUID
    }

    /// The summary of a finish that was recorded.
    public init(_ finish: AttemptFinish) {
        var retryAt: Date?
        let outcome: AttemptOutcome
        var error: JobError?
        switch finish.end {
        case .succeeded:
            outcome = .succeeded
        case .failed(let failure, _, let retry):
            outcome = .failed
            error = failure
            retryAt = retry
        case .cancelled(let failure):
            outcome = .cancelled
            error = failure
        case .interrupted(let failure):
            outcome = .interrupted
            error = failure
        }
        self.init(
            jobID: finish.jobID, attemptNumber: finish.attempt.number, outcome: outcome, error: error,
            retryAt: retryAt, submitterUID: finish.submitterUID)
    }

    /// The job's state after this end.
    public var jobState: JobState {
        switch outcome {
        case .succeeded: .succeeded
        case .failed: retryAt == nil ? .failed : .queued
        case .cancelled: .cancelled
        case .interrupted, .running: .queued
        }
    }
}
