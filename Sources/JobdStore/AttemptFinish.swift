import Foundation
import JobdModel

/// One attempt's end, for `JobStore.settle(_:)`.
public struct AttemptFinish: Sendable, Hashable {
    /// The attempt: its fence.
    public var attempt: AttemptRef
    /// How it ended.
    public var end: AttemptEnd
    /// When it ended (nil: when it is written).
    public var endedAt: Date?
    /// The job's submitter, carried to the change feed (events are filtered by it).
    public var submitterUID: UInt32?

    /// Describes an end.
    ///
    /// - Parameters:
    ///   - attempt: The attempt.
    ///   - end: How it ended.
    ///   - endedAt: When it ended; nil means when it is written.
    ///   - submitterUID: The job's submitter, when known.
    public init(attempt: AttemptRef, end: AttemptEnd, endedAt: Date? = nil, submitterUID: UInt32? = nil) {
        self.attempt = attempt
        self.end = end
        self.endedAt = endedAt
        self.submitterUID = submitterUID
    }

    /// The job.
    public var jobID: JobID { attempt.jobID }
}
