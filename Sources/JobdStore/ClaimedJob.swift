import Foundation
import JobdModel

/// A job the dispatcher has claimed: its row moved to `running` and an attempt row exists.
public struct ClaimedJob: Sendable {
    /// The job.
    public var id: JobID
    /// The attempt's row id.
    public var attemptID: Int64
    /// The attempt's number (1-based, counting interrupted attempts): with the job id,
    /// the fencing token of its finish.
    public var attemptNumber: Int
    /// Attempts used so far including this one, not counting interrupted ones.
    public var attemptsUsed: Int
    /// The job's attempt budget.
    public var maxAttempts: Int
    /// The per-attempt time limit, if any.
    public var timeout: Double?
    /// The priority (claims come highest first).
    public var priority: Int
    /// For fetch jobs, the `host:port` of the per-host limit.
    public var host: String?
    /// When the job was due.
    public var runAt: Date
    /// The spec to execute.
    public var spec: JobSpec
    /// The uid that submitted the job, when recorded (events carry it to filter subscribers).
    public var submitterUID: UInt32?

    public init(
        id: JobID, attemptID: Int64, attemptNumber: Int, attemptsUsed: Int, maxAttempts: Int,
        timeout: Double?, priority: Int, host: String? = nil, runAt: Date, spec: JobSpec, submitterUID: UInt32? = nil
    ) {
        self.submitterUID = submitterUID
        self.host = host
        self.id = id
        self.attemptID = attemptID
        self.attemptNumber = attemptNumber
        self.attemptsUsed = attemptsUsed
        self.maxAttempts = maxAttempts
        self.timeout = timeout
        self.priority = priority
        self.runAt = runAt
        self.spec = spec
    }
}

extension ClaimedJob {
    /// The attempt, as a finish or a release names it.
    public var attempt: AttemptRef { AttemptRef(jobID: id, attemptID: attemptID, number: attemptNumber) }
}
