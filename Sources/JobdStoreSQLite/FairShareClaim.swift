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
/// are one range of the same index, up to a quota (`FairShareRotation.quota`); the
/// rotation merges them. When the claim is not full but some group filled its quota, the
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

    /// One group's due jobs in queue order (arguments: group, now, limit, offset).
    static let candidatesSQL = """
        SELECT id, priority FROM jobs INDEXED BY jobs_fair
        WHERE coalesce(submitter_uid, -1) = ? AND state = 'queued' AND run_at <= ?
        ORDER BY priority DESC, run_at, id LIMIT ? OFFSET ?
        """

    /// `candidatesSQL` skipping kinds and hosts at their limits (arguments: group, now,
    /// kinds as a JSON array, hosts as a JSON array, limit, offset).
    static let candidatesExcludingSQL = """
        SELECT id, priority FROM jobs INDEXED BY jobs_fair
        WHERE coalesce(submitter_uid, -1) = ? AND state = 'queued' AND run_at <= ?
            AND kind NOT IN (SELECT value FROM json_each(?))
            AND (host IS NULL OR host NOT IN (SELECT value FROM json_each(?)))
        ORDER BY priority DESC, run_at, id LIMIT ? OFFSET ?
        """

    /// The ids to claim, in claim order; the rotation moves on to the last group taken.
    func choose(in db: Database) throws -> [Int64] {
        guard limit > 0 else { return [] }
        var groups = try Int64.fetchAll(db.cachedStatement(sql: Self.groupsSQL))
        let excluding = !excludingKinds.isEmpty || !excludingHosts.isEmpty
        let read = try db.cachedStatement(sql: excluding ? Self.candidatesExcludingSQL : Self.candidatesSQL)
        let kinds = SQLiteJobStore.jsonArray(excludingKinds.map(\.rawValue))
        let hosts = SQLiteJobStore.jsonArray(Array(excludingHosts))
        var chosen: [Int64] = []
        // What each group gave so far: a later pass reads past it (nothing changes in between:
        // this transaction is the only writer).
        var taken: [Int64: Int] = [:]
        while !groups.isEmpty, chosen.count < limit {
            let wanted = limit - chosen.count
            let quota = FairShareRotation.quota(limit: wanted, groups: groups.count)
            var lists: [[FairShareRotation.Candidate]] = []
            lists.reserveCapacity(groups.count)
            for group in groups {
                let offset = taken[group, default: 0]
                let arguments: StatementArguments =
                    excluding ? [group, now, kinds, hosts, quota, offset] : [group, now, quota, offset]
                lists.append(
                    try Row.fetchAll(read, arguments: arguments).map { row in
                        FairShareRotation.Candidate(id: row[0], priority: row[1], group: group, rank: 0)
                    })
            }
            let merged = rotation.merge(lists, limit: wanted)
            for candidate in merged { taken[candidate.group, default: 0] += 1 }
            chosen += merged.map(\.id)
            groups = FairShareRotation.groupsToReadAgain(taken: merged, wanted: wanted, quota: quota)
        }
        return chosen
    }
}
