import Foundation
import JobdModel

/// The queue as the runtime, the server and the daemon see it: what every storage engine
/// (SQLite, the embedded default; PostgreSQL, for many nodes) provides.
///
/// It speaks the runtime's words, not SQL's: insert a batch, settle (record ended attempts
/// and claim due jobs in one round trip), cancel, retry, release over-limit claims, rescue
/// the attempts of dead owners, prune, the reads the API needs, and a change feed.
///
/// Guarantees every engine keeps (the conformance suite, `StoreConformance`, checks them):
/// - A write returns only after its transaction committed; if it throws, nothing of it is
///   stored.
/// - Claims take due queued jobs highest `priority` first, then earliest `run_at`, then id,
///   and give each a new attempt whose number is one more than the job's previous one.
///   Under `FairShare.perUID` the submitting uids take turns among jobs of equal priority
///   (on PostgreSQL `FairShareRotation` says in which order; SQLite keeps ranks, its
///   `FairRanks`; which uid a round starts with is the engine's).
/// - An idempotency key is unique among stored jobs, by the database's own constraint; a
///   key given with a window (`JobSpec.keyWindow`) is given up by its job once the window
///   has passed since that job's submit, and the next insert with the key takes it.
/// - A finish is written only while its attempt still owns the job: compare-and-set on
///   (job id, attempt number, state `running`). A late end from an attempt that was
///   rescued, cancelled or released is dropped, never written over a newer one.
/// - Every committed change that others may wait for reaches the change feed
///   (`subscribe(_:)`), in commit order per job.
/// - Retry and backoff decisions are the runtime's: the store writes the `AttemptEnd` it is
///   given (with its `retryAt`), it decides nothing about policy.
///
/// - Important: Engine knobs (SQLite's `synchronous`, a pool size) are the engine's own
///   options, not part of this protocol.
public protocol JobStore: ScheduleStore, DatabaseMaintenance {
    /// Stores new jobs, all in one transaction, and returns after the commit.
    ///
    /// A job whose idempotency `key` is already taken (by a job of the same submitter) is
    /// not stored again: its outcome names the existing job with `created == false`. A key
    /// whose holder's window (`key_window`) has passed by `now` is taken over: the holder
    /// keeps its place and state but no longer answers for the key, and the new job is
    /// created (whoever submitted either). Concurrent inserts of one key create one job,
    /// and the others answer it. A job's `tags` are stored so that `list` finds them by
    /// index. With
    /// `maxQueued`, the insert is refused whole when the jobs it would create bring the
    /// number of queued jobs over the cap. Each created job reaches the change feed as
    /// `StoreChange.inserted`.
    ///
    /// - Parameters:
    ///   - jobs: The jobs, defaults resolved.
    ///   - maxQueued: The backlog cap, or nil for none.
    ///   - now: The submit time (`created_at`).
    /// - Returns: One outcome per job, in order.
    /// - Throws: `StoreError` `queue_full`, `key_taken`, or a storage code (`disk_full`,
    ///   `busy`, …); then nothing of the batch is stored.
    func insert(_ jobs: [NewJob], maxQueued: Int?, now: Date) async throws -> [InsertOutcome]

    /// Stores a batch: its row, its jobs in order, and its `on_complete` job (`waiting`), all
    /// in one transaction, and returns after the commit.
    ///
    /// The batch ends in the transaction that makes its last job terminal, whichever write
    /// that is (a finish, a cancel, a rescue): it becomes `succeeded` or `failed`, its
    /// `on_complete` job becomes `queued` (exactly once: a retry that reopens the batch does
    /// not queue it again), and the change feed reports `batchCompleted`. With `maxQueued`
    /// the batch's jobs count against the cap (the `on_complete` job does not: it waits).
    /// The jobs reach the change feed as one `inserted`.
    ///
    /// - Parameters:
    ///   - batch: The batch, defaults resolved; its jobs have no idempotency keys.
    ///   - maxQueued: The backlog cap, or nil for none.
    ///   - now: The submit time.
    /// - Returns: The batch's id, its jobs' ids in order, the `on_complete` job's id.
    /// - Throws: `StoreError` `queue_full`, or a storage code; then nothing is stored.
    func insertBatch(_ batch: NewBatch, maxQueued: Int?, now: Date) async throws -> BatchInsertOutcome

    /// The batch with this id, its counts per state and its job ids in order; nil when no
    /// batch has it.
    ///
    /// - Throws: `StoreError`.
    func batch(_ id: BatchID) async throws -> BatchRecord?

    /// Each job of the batch as a result entry, in submit order (a pruned job is left out).
    ///
    /// - Throws: `StoreError`.
    func batchResults(_ id: BatchID) async throws -> [BatchResultItem]

    /// A page of batches, newest first, with their counts and without their job ids.
    ///
    /// - Throws: `StoreError`.
    func batches(_ query: BatchListQuery) async throws -> [BatchRecord]

    /// Cancels every unfinished job of a batch in one transaction: waiting and queued ones
    /// at once; running ones are named for the runtime to stop (on an engine with many
    /// nodes, the others hear `cancelRequested` for theirs).
    ///
    /// - Returns: What was done; nil when no batch has this id.
    /// - Throws: `StoreError`.
    func cancelBatch(_ id: BatchID, now: Date) async throws -> BatchCancelOutcome?

    /// Records ended attempts and claims due jobs, in one transaction: the dispatcher's
    /// whole round trip to the database.
    ///
    /// Finishes come first, so the slots they free and the jobs they re-queue for an
    /// immediate retry are visible to the claim. Each finish is fenced (see the protocol's
    /// guarantees); each recorded one reaches the change feed as `StoreChange.finished`.
    /// When the claim takes fewer jobs than its limit, the outcome carries the earliest
    /// future `run_at`, read in the same transaction, so a job due in between is either
    /// claimed or timed, never missed.
    ///
    /// - Parameter request: The finishes, in order, and the claim.
    /// - Returns: Per finish whether it was recorded, the claimed jobs, the next `run_at`.
    /// - Throws: `StoreError`; then nothing of it is stored and the caller keeps the
    ///   finishes to try again.
    func settle(_ request: SettleRequest) async throws -> SettleOutcome

    /// Cancels a queued job at once, or reports the running attempt the runtime must stop.
    ///
    /// A cancelled queued job reaches the change feed as `StoreChange.cancelled`.
    ///
    /// - Returns: What the job's state called for.
    /// - Throws: `StoreError`.
    func cancel(_ jobID: JobID, now: Date) async throws -> CancelOutcome

    /// Puts claimed jobs back to `queued` as if they had never been claimed: their attempts
    /// are deleted (they never ran) and their attempt counts restored.
    ///
    /// Fenced like a finish: a job whose attempt no longer owns it is left alone.
    ///
    /// - Throws: `StoreError`.
    func release(_ attempts: [AttemptRef], now: Date) async throws

    /// Queues a finished job again with a fresh attempt budget: its spec's `max_attempts`
    /// (else `defaultMaxAttempts`) on top of the attempts already used.
    ///
    /// A re-queued job reaches the change feed as `StoreChange.requeued`.
    ///
    /// - Returns: What the job's state allowed.
    /// - Throws: `StoreError`.
    func retry(_ jobID: JobID, defaultMaxAttempts: Int, now: Date) async throws -> RetryOutcome

    /// Rescues the attempts of dead owners: each becomes `interrupted`, and its job is
    /// queued again (policy `retry`, fewer than `RescueReport.maxInterruptions` interruptions) or ends
    /// `failed` with `interrupted` (policy `fail`, or too many).
    ///
    /// Which owners are dead is the engine's knowledge: for SQLite, whose file one process
    /// holds under a lock, every attempt left `running` when the store opens belongs to a
    /// process that is gone. An interrupted attempt does not use up one of `max_attempts`.
    ///
    /// - Important: SQLite: call it once, before the dispatcher starts.
    /// - Returns: What was rescued.
    /// - Throws: `StoreError`.
    func rescue(now: Date) async throws -> RescueReport

    /// Deletes up to `limit` finished jobs (and their attempts, edges and tags) that
    /// finished before `cutoff`, in one short transaction.
    ///
    /// - Returns: How many jobs were deleted.
    /// - Throws: `StoreError`.
    func prune(finishedBefore cutoff: Date, limit: Int) async throws -> Int

    /// The job with this id and all its attempts, or nil.
    ///
    /// - Throws: `StoreError`.
    func job(_ id: JobID) async throws -> JobRecord?

    /// A page of jobs, newest first, as summaries: no result bodies, no attempts.
    ///
    /// - Important: The list must not read result bodies: each result is described from
    ///   the first `ResultHead.prefixBytes` of its stored text (`ResultHead`), read whole
    ///   only when that prefix does not say enough.
    ///
    /// - Parameters:
    ///   - query: Filters, page size and cursor.
    /// - Throws: `StoreError`.
    func list(_ query: JobListQuery) async throws -> [JobSummary]

    /// Who submitted the job with this id, or nil when no job has it.
    ///
    /// Job ids are never reused and a job's submitter never changes, so the answer stays
    /// true for the action that follows it.
    ///
    /// - Throws: `StoreError`.
    func owner(of id: JobID) async throws -> JobOwner?

    /// How many jobs are in each state.
    ///
    /// - Throws: `StoreError`.
    func counts() async throws -> JobCounts

    /// When the longest-finished job finished, or nil when no job is finished: the
    /// retention pruner sleeps until that job expires instead of polling.
    ///
    /// - Throws: `StoreError`.
    func earliestFinishedAt() async throws -> Date?

    /// The nodes sharing this store, for `GET /v1/nodes`: nil for an engine with one node.
    ///
    /// - Throws: `StoreError`.
    func nodes() async throws -> [NodeInfo]?

    /// The cluster-wide pause switch of an engine shared by many nodes; nil for an engine
    /// with one node, whose runtime's own switch is all there is.
    ///
    /// - Throws: `StoreError`.
    func clusterPaused() async throws -> Bool?

    /// Sets the cluster-wide pause switch; every node hears `pauseChanged` (this one too).
    ///
    /// - Returns: False for an engine with one node (nothing is stored).
    /// - Throws: `StoreError`.
    func setClusterPaused(_ paused: Bool) async throws -> Bool

    /// Proves the store's write path still works through its queue; for the systemd
    /// watchdog.
    ///
    /// A write path that is stuck (a statement or an fsync that never returns) never
    /// answers: the caller races the probe against a deadline and must not start a second
    /// one while one is outstanding. A database that refuses writes (locked by another
    /// process, full) is a storage fault that submits report, not a hang, and still answers.
    ///
    /// - Throws: `StoreError` when the engine cannot be asked at all.
    func probe() async throws

    /// Where the jobs live, for `GET /v1/health`: the database file's path, or the
    /// database's address without its password.
    var location: String { get }

    /// Write transactions committed and the operations they held since the store opened.
    var statistics: StoreStatistics { get }

    /// Most jobs one dispatcher round claims (`ClaimRequest.limit`), however many slots are
    /// free. An engine with one writer keeps it small, since every other write waits
    /// behind the claim; one with concurrent writers takes more per round, since each
    /// round costs a commit and its round trips.
    var claimChunk: Int { get }

    /// Registers a handler for the change feed: every committed change, in commit order per
    /// job, from now on.
    ///
    /// - Important: The handler runs on the engine's own thread right after the commit,
    ///   before any later write of this store is acted on; keep it short and non-blocking
    ///   (hand the change to a stream or a lock-protected buffer).
    func subscribe(_ handler: @escaping @Sendable (StoreChange) -> Void)
}

extension JobStore {
    /// 512: a claim holds SQLite's one writer, and the API's writes wait behind it
    /// (docs/benchmarks.md, W4).
    public var claimChunk: Int { 512 }

    /// One node: no list.
    public func nodes() async throws -> [NodeInfo]? { nil }

    /// One node: no shared switch.
    public func clusterPaused() async throws -> Bool? { nil }

    /// One node: no shared switch.
    public func setClusterPaused(_ paused: Bool) async throws -> Bool { false }

    /// Stores new jobs now, without a backlog cap.
    ///
    /// - Throws: As `insert(_:maxQueued:now:)`.
    public func insert(_ jobs: [NewJob], maxQueued: Int? = nil) async throws -> [InsertOutcome] {
        try await insert(jobs, maxQueued: maxQueued, now: Date())
    }

    /// Stores new jobs without a backlog cap, at `now`.
    ///
    /// - Throws: As `insert(_:maxQueued:now:)`.
    public func insert(_ jobs: [NewJob], now: Date) async throws -> [InsertOutcome] {
        try await insert(jobs, maxQueued: nil, now: now)
    }

    /// Claims up to `limit` due jobs, recording nothing.
    ///
    /// - Throws: As `settle(_:)`.
    public func claim(
        limit: Int, excludingKinds: Set<JobKind> = [], excludingHosts: Set<String> = [], now: Date = Date(),
        fairShare: FairShare = .off
    ) async throws -> [ClaimedJob] {
        try await settle(
            SettleRequest(
                claim: ClaimRequest(
                    limit: limit, excludingKinds: excludingKinds, excludingHosts: excludingHosts, now: now,
                    fairShare: fairShare))
        ).claimed
    }

    /// Records how one attempt ended, if that attempt still owns its job.
    ///
    /// - Returns: True when recorded; false when the attempt was fenced out.
    /// - Throws: As `settle(_:)`.
    public func finish(_ finish: AttemptFinish, now: Date = Date()) async throws -> Bool {
        try await settle(SettleRequest(finishes: [finish], claim: ClaimRequest(limit: 0, now: now))).recorded[0]
    }

    /// Cancels a job now.
    ///
    /// - Throws: As `cancel(_:now:)`.
    public func cancel(_ jobID: JobID) async throws -> CancelOutcome {
        try await cancel(jobID, now: Date())
    }

    /// Releases claimed jobs now.
    ///
    /// - Throws: As `release(_:now:)`.
    public func release(_ attempts: [AttemptRef]) async throws {
        try await release(attempts, now: Date())
    }

    /// Re-queues a finished job now.
    ///
    /// - Throws: As `retry(_:defaultMaxAttempts:now:)`.
    public func retry(_ jobID: JobID, defaultMaxAttempts: Int) async throws -> RetryOutcome {
        try await retry(jobID, defaultMaxAttempts: defaultMaxAttempts, now: Date())
    }

    /// A page of jobs, newest first, without attempt lists.
    ///
    /// - Throws: As `list(_:)`.
    public func list(
        state: JobState? = nil, kind: JobKind? = nil, limit: Int, before: JobID? = nil, submitterUID: UInt32? = nil,
        tag: String? = nil
    ) async throws -> [JobSummary] {
        try await list(
            JobListQuery(
                state: state, kind: kind, limit: limit, before: before, submitterUID: submitterUID, tag: tag))
    }

    /// Rescues dead owners' attempts now.
    ///
    /// - Throws: As `rescue(now:)`.
    public func rescue() async throws -> RescueReport {
        try await rescue(now: Date())
    }
}
