import Synchronization

/// The order of fair-share claims (`FairShare.perUID`) on PostgreSQL: which candidate goes
/// first, and the uid the rotation starts after. (SQLite, with one writer, ranks each job
/// as it is queued instead: `FairRanks` in JobdStoreSQLite.)
///
/// Each submitter is a *group*: its uid, or `FairShareRotation.noUID` for jobs stored
/// without one. A claim finds the groups with queued jobs, takes up to a quota of due
/// candidates from each (in queue order: priority, `run_at`, id) and merges them by
/// priority (highest first), then the candidate's rank among its group's candidates of
/// that priority (1 first), then the group, in a rotating order that starts after the
/// group served last. So a round of one claim serves each group in turn, and a claim of
/// n jobs takes about n/g from each of g groups, in turn.
///
/// The last group served is kept per store instance (per node on an engine with many):
/// it decides only who goes first among equals, never whether a job runs.
public final class FairShareRotation: Sendable {
    /// The group of jobs stored without a submitter uid (no uid is negative).
    public static let noUID: Int64 = -1

    /// One due job a claim may take.
    public struct Candidate: Sendable, Hashable {
        /// The job's id.
        public var id: Int64
        /// Its priority.
        public var priority: Int
        /// Its submitter's group: the uid, or `noUID`.
        public var group: Int64
        /// 1 for its group's first candidate of this priority, 2 for the next, …
        public var rank: Int

        public init(id: Int64, priority: Int, group: Int64, rank: Int) {
            self.id = id
            self.priority = priority
            self.group = group
            self.rank = rank
        }
    }

    private let lastServed = Mutex<Int64?>(nil)
    private let groupsSeen = Mutex(1)

    /// A rotation that starts with the lowest group.
    public init() {}

    /// The group served last, or nil before the first claim.
    public var last: Int64? { lastServed.withLock { $0 } }

    /// How many candidates to read from each of `groups` groups for a claim of `limit`:
    /// an even share and one more, so that the merge can go round the groups evenly.
    ///
    /// A group with fewer due jobs leaves its share to the others: the engine reads again
    /// from the groups that filled their quota (`groupsToReadAgain`).
    public static func quota(limit: Int, groups: Int) -> Int {
        guard groups > 0 else { return limit }
        return min(limit, (limit + groups - 1) / groups + 1)
    }

    /// True when `candidate` goes before `other` in claim order, the rotation starting
    /// after `last`.
    public static func precedes(_ candidate: Candidate, _ other: Candidate, after last: Int64?) -> Bool {
        if candidate.priority != other.priority { return candidate.priority > other.priority }
        if candidate.rank != other.rank { return candidate.rank < other.rank }
        let start = last ?? Int64.min
        // Groups after the last one served come first, then the others, each ascending.
        let wrapsA = candidate.group <= start
        let wrapsB = other.group <= start
        if wrapsA != wrapsB { return !wrapsA }
        return candidate.group < other.group
    }

    /// Merges candidate lists, each one group's in queue order, into claim order, takes
    /// the first `limit`, and makes the last one taken the group served last.
    ///
    /// - Parameters:
    ///   - lists: Per group, its candidates in queue order (`rank` is filled in here).
    ///   - limit: How many to take.
    /// - Returns: The candidates taken, in claim order.
    public func merge(_ lists: [[Candidate]], limit: Int) -> [Candidate] {
        var all: [Candidate] = []
        all.reserveCapacity(lists.reduce(0) { $0 + $1.count })
        for list in lists {
            var rank = 0
            var priority: Int?
            for var candidate in list {
                rank = candidate.priority == priority ? rank + 1 : 1
                priority = candidate.priority
                candidate.rank = rank
                all.append(candidate)
            }
        }
        let start = last
        all.sort { Self.precedes($0, $1, after: start) }
        let taken = Array(all.prefix(limit))
        if let final = taken.last { advance(to: final.group) }
        return taken
    }

    /// How many groups had queued jobs at the last claim that counted them (1 before
    /// any): an engine that finds the groups in the claim's own statement sizes the quota
    /// by it. A count that grew since only makes the quota larger than needed; one that
    /// shrank leaves the claim short, and `groupsToReadAgain` reads again for the rest.
    public var knownGroups: Int {
        get { groupsSeen.withLock { $0 } }
        set { groupsSeen.withLock { $0 = max(1, newValue) } }
    }

    /// Records `group` as the group served last.
    public func advance(to group: Int64) {
        lastServed.withLock { $0 = group }
    }

    /// True when a claim that took `taken` of `wanted` jobs should read again: it took
    /// fewer than it wanted, and some group gave all of its `quota` (it may have more).
    ///
    /// - Returns: The groups to read again (those that filled their quota); empty when done.
    public static func groupsToReadAgain(taken: [Candidate], wanted: Int, quota: Int) -> [Int64] {
        guard taken.count < wanted else { return [] }
        var counts: [Int64: Int] = [:]
        for candidate in taken { counts[candidate.group, default: 0] += 1 }
        return counts.filter { $0.value >= quota }.map(\.key).sorted()
    }
}
