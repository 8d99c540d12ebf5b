import JobdModel

/// One committed change, as the store's change feed (`JobStore.subscribe(_:)`) reports it.
///
/// The runtime turns changes into events and wakes waiters from them; an engine with many
/// nodes delivers the changes other nodes commit as well.
public enum StoreChange: Sendable {
    /// Jobs were created by one insert (idempotent repeats are not listed).
    case inserted([JobID], submitterUID: UInt32?)
    /// An attempt's end was recorded (fenced-out ends are not reported).
    case finished(FinishedAttempt)
    /// A queued job was cancelled.
    case cancelled(JobID, submitterUID: UInt32?)
    /// A finished job was queued again by a retry; or, from another node, a job it had
    /// claimed and then put back untouched (over a local limit).
    case requeued(JobID, submitterUID: UInt32?)
    /// Another node claimed jobs and started their attempts (engines with many nodes
    /// only): a node's runtime publishes its own starts as it admits them, so its store
    /// never reports them to it.
    case started([StartedAttempt])
    /// Attempts of a dead owner were rescued, each recorded `interrupted`: a job with a
    /// `retryAt` is queued again, one without failed with `interrupted` (its policy, or
    /// too many interruptions).
    case rescued([FinishedAttempt])
    /// A cancel was asked for a job that is running, perhaps on another node: whichever
    /// node runs the attempt stops it.
    case cancelRequested(JobID)
    /// The cluster-wide pause switch was set (engines with many nodes; any node, this one
    /// included, may have set it): true stops every node's claims, false resumes them.
    case pauseChanged(Bool)
    /// This node's lease ran out (an engine with many nodes): its running attempts no
    /// longer own their jobs, and the runtime must stop them now (self-fencing).
    case leaseLost
    /// The engine lost and regained its change notifications: changes of other nodes in
    /// between were not reported, so the runtime looks at the queue again and wakes
    /// every waiter to read its job.
    case resynchronized
    /// Every job of a batch ended, in the transaction that ended the last one, which also
    /// queued its `on_complete` job. Reported once per completion, by every engine; on
    /// PostgreSQL it reaches every node (this one too) through the database's
    /// notifications, a moment after the commit.
    case batchCompleted(BatchCompletion)
    /// Jobs that wait for others (`after`) were stored `waiting`, released to `queued`,
    /// or cancelled with `dependency_failed`, in the transaction that caused it.
    case dependencies([DependencyTransition])
    /// A schedule was created, replaced, deleted, paused or resumed (by any node): the
    /// node that fires schedules reads them again.
    case schedulesChanged
    /// This node became the one that fires schedules (true) or stopped being it (false):
    /// the leader, on an engine with many nodes.
    case leadershipChanged(Bool)
}

/// One job's step in the dependency graph.
public struct DependencyTransition: Sendable, Hashable {
    /// What happened.
    public enum Kind: Sendable, Hashable {
        /// Stored `waiting` for unfinished parents.
        case waiting
        /// Its last parent ended (succeeded, or any end under `on_dependency_failure:
        /// run`): it is `queued`.
        case released
        /// This parent failed or was cancelled: it is `cancelled` with `dependency_failed`.
        case failed(parent: JobID, parentState: JobState)
    }

    public var jobID: JobID
    public var kind: Kind
    public var submitterUID: UInt32?

    public init(jobID: JobID, kind: Kind, submitterUID: UInt32?) {
        self.jobID = jobID
        self.kind = kind
        self.submitterUID = submitterUID
    }

    /// The error of a job cancelled because `parent` ended in `state`.
    public static func error(parent: JobID, state: JobState) -> JobError {
        JobError(
            .dependencyFailed,
            "job \(parent) " + (state == .cancelled ? "was cancelled" : "failed") + "; this job waited for it")
    }
}
