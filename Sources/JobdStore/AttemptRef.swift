import JobdModel

/// One attempt of a job, as a fenced write names it.
///
/// The fence is (job id, attempt number, state `running`): an engine writes an attempt's
/// end, or releases its claim, only while the job is still running that attempt. The row
/// id names the attempt's own row.
public struct AttemptRef: Sendable, Hashable {
    /// The job.
    public var jobID: JobID
    /// The attempt's row id.
    public var attemptID: Int64
    /// The attempt's number (1-based, counting interrupted attempts).
    public var number: Int

    /// Names an attempt.
    ///
    /// - Parameters:
    ///   - jobID: The job.
    ///   - attemptID: The attempt's row id.
    ///   - number: The attempt's number.
    public init(jobID: JobID, attemptID: Int64, number: Int) {
        self.jobID = jobID
        self.attemptID = attemptID
        self.number = number
    }
}
