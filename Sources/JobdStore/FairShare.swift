/// How claims share the workers among submitters (`scheduling.fair_share`).
public enum FairShare: String, Sendable, CaseIterable {
    /// Claims take due jobs in queue order: highest `priority`, then earliest `run_at`,
    /// then id. One user's backlog runs before a job submitted after it. The default.
    case off
    /// Among due jobs of equal priority, claims take the submitting uids in turn (one job
    /// of each uid that has some, round-robin, starting after the uid served last), so one
    /// user's backlog does not hold up another user's jobs. Priority still wins; jobs
    /// without a submitter uid count as one more uid.
    case perUID = "per_uid"
}
