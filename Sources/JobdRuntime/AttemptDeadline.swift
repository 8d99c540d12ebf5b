import JobdModel

/// When a timed attempt runs out of time: an entry of the dispatcher's deadline heap
/// (swift-collections' `Heap`, earliest first).
///
/// Entries are not removed when an attempt ends early (cancel, shutdown); the dispatcher
/// skips an entry whose attempt is gone when it reaches the top.
struct AttemptDeadline: Comparable {
    var deadline: ContinuousClock.Instant
    var jobID: JobID
    var attemptID: Int64

    /// By deadline; ties by job and attempt, so the order is total and agrees with `==`.
    static func < (lhs: AttemptDeadline, rhs: AttemptDeadline) -> Bool {
        (lhs.deadline, lhs.jobID, lhs.attemptID) < (rhs.deadline, rhs.jobID, rhs.attemptID)
    }
}
