import Foundation
import JobdModel
import JobdStore
import PostgresNIO

extension PostgresJobStore {
    /// Claims up to `claim.limit` due jobs for `node` under fair share (`FairShare.perUID`),
    /// in claim order: the submitters in turn among jobs of equal priority.
    ///
    /// One statement per pass. It finds the submitter groups with queued jobs by a loose
    /// index scan of `jobs_fair` (a recursive query: the smallest group, then the smallest
    /// one above it; one index seek each, however many jobs each group has), locks each
    /// group's first due jobs `FOR UPDATE SKIP LOCKED`, up to a quota, one range of
    /// `jobs_fair` per group, and merges them by the rotation's order (priority, rank within
    /// the group, group after the one this node served last), claiming the first of them.
    /// The quota is sized by the number of groups the previous claim counted
    /// (`FairShareRotation.knownGroups`; the statement counts them again). Candidates the
    /// merge leaves are locked until the commit, at most a quota's worth per group (other
    /// nodes skip them meanwhile). A pass that is not full while some group gave its whole
    /// quota is followed by one for those groups only, for what is left.
    ///
    /// The groups used to be read by a statement of their own before each claim: one round
    /// trip and one plan more per claim, 15 % of W1 with two uids (docs/benchmarks.md).
    static func fairShareClaim(
        _ claim: ClaimRequest, node: Int64, nodeName: String, rotation: FairShareRotation,
        recentSpecs: RecentSpecs, on connection: PostgresConnection, logger: Logger
    ) async throws -> [ClaimedJob] {
        guard claim.limit > 0 else { return [] }
        let kinds = claim.excludingKinds.map(\.rawValue)
        let hosts = Array(claim.excludingHosts)
        let now = claim.now
        var claimed: [ClaimedJob] = []
        // Empty: every group with queued jobs; else only these.
        var only: [Int64] = []
        repeat {
            let wanted = claim.limit - claimed.count
            let quota = FairShareRotation.quota(limit: wanted, groups: only.isEmpty ? rotation.knownGroups : only.count)
            let last = rotation.last ?? Int64.min
            let rows = try await connection.query(
                """
                WITH RECURSIVE groups(uid) AS (
                    SELECT (SELECT coalesce(submitter_uid, -1) FROM jobs WHERE state = 'queued'
                        ORDER BY coalesce(submitter_uid, -1) LIMIT 1)
                    UNION ALL
                    SELECT (SELECT coalesce(submitter_uid, -1) FROM jobs
                            WHERE state = 'queued' AND coalesce(submitter_uid, -1) > groups.uid
                            ORDER BY coalesce(submitter_uid, -1) LIMIT 1)
                    FROM groups WHERE groups.uid IS NOT NULL
                ), live AS (
                    SELECT uid FROM groups
                    WHERE uid IS NOT NULL AND (cardinality(\(only)::bigint[]) = 0 OR uid = ANY(\(only)::bigint[]))
                        AND EXISTS (SELECT 1 FROM nodes WHERE id = \(node) AND lease_until > now())
                ), candidates AS (
                    SELECT c.id, c.priority, live.uid,
                        row_number() OVER (PARTITION BY live.uid, c.priority ORDER BY c.run_at, c.id) AS rank
                    FROM live CROSS JOIN LATERAL (
                        SELECT id, priority, run_at FROM jobs
                        WHERE coalesce(submitter_uid, -1) = live.uid AND state = 'queued' AND run_at <= \(now)
                            AND NOT (kind = ANY(\(kinds)::text[]))
                            AND (host IS NULL OR NOT (host = ANY(\(hosts)::text[])))
                        ORDER BY priority DESC, run_at, id
                        LIMIT \(quota)
                        FOR UPDATE SKIP LOCKED
                    ) c
                ), picked AS (
                    SELECT id, uid, rank FROM candidates
                    ORDER BY priority DESC, rank, uid <= \(last), uid
                    LIMIT \(wanted)
                )
                UPDATE jobs j SET state = 'running', attempt_count = j.attempt_count + 1, updated_at = \(now),
                    attempt_id = nextval('attempts_id_seq'), node_id = \(node), node_name = \(nodeName),
                    started_at = \(now)
                FROM picked WHERE j.id = picked.id
                RETURNING j.id, j.attempt_id, j.spec, j.attempt_count, j.interrupted_count, j.max_attempts, j.timeout,
                    j.priority, j.run_at, j.host, j.submitter_uid, picked.uid, picked.rank,
                    (SELECT count(*)::integer FROM live)
                """, logger: logger)
            var picked: [ClaimedRow] = []
            var candidates: [FairShareRotation.Candidate] = []
            var groupCount: Int?
            for try await row in rows.decode(
                (Int64, Int64, String, Int, Int, Int, Double?, Int, Date, String?, Int64?, Int64, Int, Int).self)
            {
                picked.append((row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8, row.9, row.10))
                candidates.append(FairShareRotation.Candidate(id: row.0, priority: row.7, group: row.11, rank: row.12))
                groupCount = row.13
            }
            if only.isEmpty, let groupCount { rotation.knownGroups = groupCount }
            // RETURNING keeps no order: the merge's order is restored here.
            let order = candidates.indices.sorted {
                FairShareRotation.precedes(candidates[$0], candidates[$1], after: last)
            }
            if let final = order.last { rotation.advance(to: candidates[final].group) }
            claimed += try claimedJobs(order.map { picked[$0] }, recentSpecs: recentSpecs)
            only = FairShareRotation.groupsToReadAgain(taken: candidates, wanted: wanted, quota: quota)
        } while !only.isEmpty && claimed.count < claim.limit
        return claimed
    }
}
