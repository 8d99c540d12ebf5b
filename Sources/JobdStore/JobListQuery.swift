import JobdModel

/// A page request for `JobStore.list(_:)`: newest first, filtered.
public struct JobListQuery: Sendable, Hashable {
    /// Only jobs in this state.
    public var state: JobState?
    /// Only jobs of this kind.
    public var kind: JobKind?
    /// At most this many.
    public var limit: Int
    /// Only jobs with a smaller id (the cursor of the previous page).
    public var before: JobID?
    /// Only jobs this uid submitted (jobs with no recorded submitter never match); nil
    /// lists every user's jobs.
    public var submitterUID: UInt32?
    /// Only jobs with this tag (`JobSpec.tags`): an index lookup on every engine, not a
    /// scan of the jobs.
    public var tag: String?

    /// Describes a page.
    ///
    /// - Parameters:
    ///   - state: Only jobs in this state.
    ///   - kind: Only jobs of this kind.
    ///   - limit: At most this many.
    ///   - before: The cursor: only jobs with a smaller id.
    ///   - submitterUID: Only this uid's jobs.
    ///   - tag: Only jobs with this tag.
    public init(
        state: JobState? = nil, kind: JobKind? = nil, limit: Int, before: JobID? = nil, submitterUID: UInt32? = nil,
        tag: String? = nil
    ) {
        self.state = state
        self.kind = kind
        self.limit = limit
        self.before = before
        self.submitterUID = submitterUID
        self.tag = tag
    }
}
