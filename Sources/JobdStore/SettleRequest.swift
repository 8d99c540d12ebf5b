import Foundation
import JobdModel

/// What one dispatcher round asks of the store: ended attempts to record, then a claim.
public struct SettleRequest: Sendable {
    /// Attempt ends to record, in order.
    public var finishes: [AttemptFinish]
    /// The jobs to claim after them.
    public var claim: ClaimRequest

    /// Describes a round.
    ///
    /// - Parameters:
    ///   - finishes: Attempt ends to record, in order.
    ///   - claim: The claim that follows them.
    public init(finishes: [AttemptFinish] = [], claim: ClaimRequest) {
        self.finishes = finishes
        self.claim = claim
    }
}

/// A claim of due jobs for free worker slots.
public struct ClaimRequest: Sendable {
    /// Jobs to claim at most; 0 claims nothing.
    public var limit: Int
    /// Kinds at their per-kind limit: their jobs stay queued and jobs behind them are
    /// claimed instead.
    public var excludingKinds: Set<JobKind>
    /// `host:port`s at their per-host limit, likewise.
    public var excludingHosts: Set<String>
    /// The claim's instant: jobs with `run_at` up to it are due.
    public var now: Date
    /// Whether the engine takes the claim's instant from its clock when the claim runs
    /// (after the round's finishes and the children they release), `now` being the
    /// earliest it may be. The dispatcher asks for it: a round's request waits for the
    /// writer, and its finishes and releases take their time, so an instant taken when the
    /// round was built would date an attempt's `started_at` before its job was claimed (by
    /// the 20-30 ms of a 10,000-child release, docs/benchmarks.md, W6). False: exactly `now`
    /// (tests, with their own clock).
    public var nowAtClaim: Bool
    /// The claiming node, recorded on each attempt; nil for an engine with one node.
    public var node: String?
    /// How long the node's lease lasts: an engine with many nodes rescues the attempts
    /// of a node whose lease ran out. Nil for an engine with one node.
    public var lease: Duration?
    /// How the claim shares the slots among submitters: queue order (`off`), or the
    /// submitting uids in turn among jobs of equal priority (`perUID`).
    public var fairShare: FairShare

    /// Describes a claim.
    ///
    /// - Parameters:
    ///   - limit: Jobs to claim at most.
    ///   - excludingKinds: Kinds not to claim.
    ///   - excludingHosts: Fetch hosts not to claim.
    ///   - now: The claim's instant.
    ///   - node: The claiming node, if the engine has many.
    ///   - lease: The node's lease, if the engine has many nodes.
    ///   - fairShare: Queue order, or uids in turn.
    ///   - nowAtClaim: Whether the engine's clock at the claim gives the instant.
    public init(
        limit: Int, excludingKinds: Set<JobKind> = [], excludingHosts: Set<String> = [], now: Date = Date(),
        node: String? = nil, lease: Duration? = nil, fairShare: FairShare = .off, nowAtClaim: Bool = false
    ) {
        self.limit = limit
        self.excludingKinds = excludingKinds
        self.excludingHosts = excludingHosts
        self.now = now
        self.node = node
        self.lease = lease
        self.fairShare = fairShare
        self.nowAtClaim = nowAtClaim
    }

    /// This claim with its instant taken now, when `nowAtClaim` asks for it: engines call it
    /// right before they claim.
    public func stamped() -> ClaimRequest {
        guard nowAtClaim else { return self }
        var claim = self
        claim.now = max(now, Date())
        return claim
    }
}

/// What `JobStore.settle(_:)` did.
public struct SettleOutcome: Sendable {
    /// Per finish, in order: true when recorded, false when its attempt was fenced out.
    public var recorded: [Bool]
    /// The claimed jobs, in claim order.
    public var claimed: [ClaimedJob]
    /// The earliest future `run_at` of a queued job, read when the claim took fewer jobs
    /// than its limit (nil otherwise, or when no job is queued for later).
    public var nextRunAt: Date?

    /// Describes a round's outcome.
    ///
    /// - Parameters:
    ///   - recorded: Per finish, whether it was recorded.
    ///   - claimed: The claimed jobs.
    ///   - nextRunAt: The earliest future `run_at`, when read.
    public init(recorded: [Bool], claimed: [ClaimedJob], nextRunAt: Date? = nil) {
        self.recorded = recorded
        self.claimed = claimed
        self.nextRunAt = nextRunAt
    }
}
