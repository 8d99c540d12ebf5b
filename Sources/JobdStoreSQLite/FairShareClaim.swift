import Foundation
import GRDB
import JobdModel
import JobdStore

/// The choice of a fair-share claim (`FairShare.perUID`), read inside the caller's
/// transaction: which due jobs to claim, in claim order.
///
/// The submitter groups with queued jobs come from a loose index scan of `jobs_fair` (a
/// recursive query: the smallest group, then the smallest one above it, one index seek
/// each, however many jobs each group has). Each group's first due jobs, in queue order,
/// are one range of the same index, up to a quota (`FairShareRotation.quota`), read for up
/// to eight groups in one statement; the rotation merges them. When the claim is not full but some group filled its quota, the
/// groups that did are read again past what was taken, for what is left: a group with two
/// due jobs leaves its share to the others within the same claim.
struct FairShareClaim: Sendable {
    var limit: Int
    var excludingKinds: Set<JobKind>
    var excludingHosts: Set<String>
    var now: Double
    var rotation: FairShareRotation

    /// The groups with queued jobs, ascending (no arguments).
    static let groupsSQL = """
        WITH RECURSIVE groups(uid) AS (
            SELECT (SELECT coalesce(submitter_uid, -1) FROM jobs INDEXED BY jobs_fair WHERE state = 'queued'
                ORDER BY coalesce(submitter_uid, -1) LIMIT 1)
            UNION ALL
            SELECT (SELECT coalesce(submitter_uid, -1) FROM jobs INDEXED BY jobs_fair
                    WHERE state = 'queued' AND coalesce(submitter_uid, -1) > groups.uid
                    ORDER BY coalesce(submitter_uid, -1) LIMIT 1)
            FROM groups WHERE uid IS NOT NULL)
        SELECT uid FROM groups WHERE uid IS NOT NULL
        """

    /// The most groups one candidates statement reads (one `UNION ALL` arm each); more
    /// groups take more statements.
    static let groupsPerStatement = 8

    /// The due jobs of `groups` groups, each group's in queue order, in one statement: one
    /// arm per group, each a range of `jobs_fair` (arguments: now, quota, then with
    /// `excluding` the kinds and hosts as JSON arrays, then per group its group and how
    /// many of its jobs an earlier pass took). Each row: id, priority, run_at, group.
    static func candidatesSQL(groups: Int, excluding: Bool) -> String {
        candidatesSQLs[excluding ? 1 : 0][groups]
    }

    /// `candidatesSQL` made once: `[excluding ? 1 : 0][groups]`, for 1 to
    /// `groupsPerStatement` groups.
    private static let candidatesSQLs: [[String]] = [false, true].map { excluding in
        [""] + (1...groupsPerStatement).map { makeCandidatesSQL(groups: $0, excluding: excluding) }
    }

    private static func makeCandidatesSQL(groups: Int, excluding: Bool) -> String {
        let base = excluding ? 5 : 3
        let filter =
            excluding
            ? " AND kind NOT IN (SELECT value FROM json_each(?3))"
                + " AND (host IS NULL OR host NOT IN (SELECT value FROM json_each(?4)))"
            : ""
        return (0..<groups).map { index in
            let group = base + 2 * index
            return """
                SELECT * FROM (SELECT id, priority, run_at, ?\(group) FROM jobs INDEXED BY jobs_fair
                WHERE coalesce(submitter_uid, -1) = ?\(group) AND state = 'queued' AND run_at <= ?1\(filter)
                ORDER BY priority DESC, run_at, id LIMIT ?2 OFFSET ?\(group + 1))
                """
        }.joined(separator: "\nUNION ALL\n")
    }

    /// The ids to claim, in claim order; the rotation moves on to the last group taken.
    ///
    /// With one group of queued jobs this is one range of `jobs_fair` in queue order, which
    /// is also the plain claim's order (the store keeps `jobs_queue` only while fair share
    /// is off: `SQLiteJobStore.applyQueueIndexes`).
    func choose(in db: Database) throws -> [Int64] {
        guard limit > 0 else { return [] }
        var groups = try Int64.fetchAll(db.cachedStatement(sql: Self.groupsSQL))
        let excluding = !excludingKinds.isEmpty || !excludingHosts.isEmpty
        let filters: StatementArguments =
            excluding
            ? [
                SQLiteJobStore.jsonArray(excludingKinds.map(\.rawValue)),
                SQLiteJobStore.jsonArray(Array(excludingHosts)),
            ] : []
        var chosen: [Int64] = []
        // What each group gave so far: a later pass reads past it (nothing changes in between:
        // this transaction is the only writer).
        var taken: [Int64: Int] = [:]
        while !groups.isEmpty, chosen.count < limit {
            let wanted = limit - chosen.count
            let quota = FairShareRotation.quota(limit: wanted, groups: groups.count)
            var lists: [Int64: [(candidate: FairShareRotation.Candidate, runAt: Double)]] = [:]
            var start = 0
            while start < groups.count {
                let chunk = groups[start..<min(start + Self.groupsPerStatement, groups.count)]
                start += chunk.count
                var arguments: StatementArguments = [now, quota]
                arguments += filters
                for group in chunk { arguments += [group, taken[group, default: 0]] }
                let read = try db.cachedStatement(sql: Self.candidatesSQLs[excluding ? 1 : 0][chunk.count])
                let rows = try Row.fetchCursor(read, arguments: arguments)
                while let row = try rows.next() {
                    let group: Int64 = row[3]
                    lists[group, default: []].append(
                        (FairShareRotation.Candidate(id: row[0], priority: row[1], group: group, rank: 0), row[2]))
                }
            }
            // Each arm is in queue order; a compound select promises no order, so it is
            // checked, and restored where needed, per group.
            let ordered = lists.values.map { list in
                let precedes = {
                    (
                        a: (candidate: FairShareRotation.Candidate, runAt: Double),
                        b: (candidate: FairShareRotation.Candidate, runAt: Double)
                    ) in
                    (a.candidate.priority, -a.runAt, -a.candidate.id) > (
                        b.candidate.priority, -b.runAt, -b.candidate.id
                    )
                }
                let inOrder = zip(list, list.dropFirst()).allSatisfy { precedes($0, $1) }
                return (inOrder ? list : list.sorted(by: precedes)).map(\.candidate)
            }
            let merged = rotation.merge(ordered, limit: wanted)
            for candidate in merged { taken[candidate.group, default: 0] += 1 }
            chosen += merged.map(\.id)
            groups = FairShareRotation.groupsToReadAgain(taken: merged, wanted: wanted, quota: quota)
        }
        return chosen
    }
}
