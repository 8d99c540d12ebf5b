import JobdModel

/// An attempt another node started, as its change feed reports it: what the `started`
/// event of `GET /v1/events` needs.
public struct StartedAttempt: Hashable, Sendable {
    /// The job.
    public var jobID: JobID
    /// The attempt's number (1 for the first).
    public var attemptNumber: Int
    /// The job's submitter, for event visibility.
    public var submitterUID: UInt32?

    public init(jobID: JobID, attemptNumber: Int, submitterUID: UInt32?) {
        self.jobID = jobID
        self.attemptNumber = attemptNumber
        self.submitterUID = submitterUID
    }
}
