import JobdModel

/// One committed change, as the store's change feed (`JobStore.subscribe(_:)`) reports it.
///
/// The runtime turns changes into events and wakes waiters from them; an engine with many
/// nodes delivers the changes other nodes commit as well.
public enum StoreChange: Sendable {
    /// Jobs were created by one insert (idempotent repeats are not listed).
    case inserted([JobID], submitterUID: UInt32?)
    /// An attempt's end was recorded (fenced-out ends are not reported).
    case finished(AttemptFinish)
    /// A queued job was cancelled.
    case cancelled(JobID, submitterUID: UInt32?)
    /// A finished job was queued again by a retry.
    case requeued(JobID, submitterUID: UInt32?)
}
