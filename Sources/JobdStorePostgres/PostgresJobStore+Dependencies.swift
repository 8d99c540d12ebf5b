import Foundation
import JobdModel
import JobdStore
import PostgresNIO

extension PostgresJobStore {
    /// A job of an insert that names parents in `after`.
    struct DependentJob: Sendable {
        /// Its id.
        var id: Int64
        /// Its spec, positions resolved to ids.
        var spec: JobSpec
        /// Its index in the insert's array (for `jobs[i].after[k]`).
        var index: Int
        /// Whether its spec had positions: its stored JSON is then written again, with ids.
        var respec: Bool
        /// Its submitter, whose jobs alone it may wait for.
        var submitterUID: UInt32?

        /// The insert's jobs that wait for others, among those it created, in order.
        ///
        /// - Parameters:
        ///   - jobs: The insert's jobs, in order.
        ///   - ids: The id of each (the existing job's, for an idempotent repeat): positions
        ///     resolve to these.
        ///   - created: Whether each was created by this insert.
        static func of(_ jobs: [NewJob], ids: [JobID], created: [Bool]) -> [DependentJob] {
            jobs.indices.compactMap { index in
                let job = jobs[index]
                guard created[index], job.spec.after?.isEmpty == false else { return nil }
                let resolved = job.spec.resolvingPositions(ids)
                return DependentJob(
                    id: ids[index].rawValue, spec: resolved, index: index, respec: resolved != job.spec,
                    submitterUID: job.submitterUID)
            }
        }
    }

    /// Records the `after` edges of jobs just inserted (in the caller's transaction, which
    /// stored them `queued`) and sets each one's state: `waiting` for unfinished parents,
    /// `queued` when all have ended well, `cancelled` (`dependency_failed`) when one failed
    /// under `cancel`, as SQLite's `recordDependencies`.
    ///
    /// The parents are locked first, in id order, and marked `has_children`: a parent's end
    /// written by another node either committed before (this reads its end) or waits for
    /// this commit (its trigger then sees the edges and the mark). Without the lock, an end
    /// committing between this read and the edges' insert would release nobody, and the
    /// child would wait for ever.
    ///
    /// - Returns: The transitions for the change feed: `waiting`, `failed` for jobs cancelled
    ///   here, then what cancelling them did to their own children in this insert.
    /// - Throws: `StoreError` `unknown_dependency` (field `jobs[i].after[k]`) for a parent
    ///   that does not exist or is another submitter's; the insert is then rolled back.
    static func recordDependencies(
        _ jobs: [DependentJob], now: Date, on connection: PostgresConnection, logger: Logger
    ) async throws -> [DependencyTransition] {
        guard !jobs.isEmpty else { return [] }
        let named = Array(Set(jobs.flatMap { $0.spec.parentIDs.map(\.rawValue) })).sorted()
        var parents: [Int64: (state: JobState, uid: UInt32?)] = [:]
        for try await (id, stateText, uid) in try await connection.query(
            """
            WITH p AS (
                SELECT id, state, submitter_uid, has_children FROM jobs WHERE id = ANY(\(named)::bigint[])
                ORDER BY id FOR NO KEY UPDATE
            ), marked AS (
                UPDATE jobs j SET has_children = true FROM p WHERE j.id = p.id AND NOT p.has_children
            )
            SELECT id, state, submitter_uid FROM p
            """, logger: logger
        ).decode((Int64, String, Int64?).self) {
            guard let state = JobState(rawValue: stateText) else {
                throw StoreError(.badData, "job \(id) has an unknown state \(stateText)")
            }
            parents[id] = (state, uid.map { UInt32(truncatingIfNeeded: $0) })
        }
        let encoder = JSONCoding.makeEncoder()
        var rows = (
            ids: [Int64](), states: [String](), waitingOn: [Int](), policies: [String](), specs: [String](),
            codes: [String](), messages: [String]()
        )
        var edges = (parents: [Int64](), children: [Int64]())
        var transitions: [DependencyTransition] = []
        for job in jobs {
            var waitingOn = 0
            var failedParent: (JobID, JobState)?
            let policy = job.spec.onDependencyFailure ?? .cancel
            for (entry, parent) in job.spec.parentIDs.enumerated() {
                // Another user's job reads as unknown, as everywhere else.
                guard let found = parents[parent.rawValue], found.uid == job.submitterUID else {
                    throw StoreError(
                        .unknownDependency, "no job has id \(parent)", field: "jobs[\(job.index)].after[\(entry)]")
                }
                edges.parents.append(parent.rawValue)
                edges.children.append(job.id)
                if !found.state.isTerminal {
                    waitingOn += 1
                } else if found.state != .succeeded, policy == .cancel, failedParent == nil {
                    failedParent = (parent, found.state)
                }
            }
            rows.ids.append(job.id)
            rows.policies.append(policy.rawValue)
            rows.specs.append(job.respec ? String(decoding: try encoder.encode(job.spec), as: UTF8.self) : "")
            if let (parent, state) = failedParent {
                let error = DependencyTransition.error(parent: parent, state: state)
                rows.states.append(JobState.cancelled.rawValue)
                rows.waitingOn.append(0)
                rows.codes.append(error.code.rawValue)
                rows.messages.append(error.message)
                transitions.append(
                    DependencyTransition(
                        jobID: JobID(job.id), kind: .failed(parent: parent, parentState: state),
                        submitterUID: job.submitterUID))
            } else {
                rows.states.append((waitingOn > 0 ? JobState.waiting : .queued).rawValue)
                rows.waitingOn.append(waitingOn)
                rows.codes.append("")
                rows.messages.append("")
                if waitingOn > 0 {
                    transitions.append(
                        DependencyTransition(jobID: JobID(job.id), kind: .waiting, submitterUID: job.submitterUID))
                }
            }
        }
        // A job cancelled here ends: when jobs of this insert wait for it, the trigger puts
        // it in the outbox, and `propagateDependencies` below cancels them.
        try await connection.query(
            """
            WITH edges AS (
                INSERT INTO job_dependencies (parent_id, child_id)
                SELECT * FROM unnest(\(edges.parents)::bigint[], \(edges.children)::bigint[])
            )
            UPDATE jobs j SET state = c.state, waiting_on = c.waiting_on, on_dependency_failure = c.policy,
                spec = coalesce(NULLIF(c.spec, ''), j.spec), error_code = NULLIF(c.code, ''),
                error_message = NULLIF(c.message, ''),
                finished_at = CASE WHEN c.state = 'cancelled' THEN \(now)::timestamptz END, updated_at = \(now)
            FROM unnest(\(rows.ids)::bigint[], \(rows.states)::text[], \(rows.waitingOn)::integer[],
                \(rows.policies)::text[], \(rows.specs)::text[], \(rows.codes)::text[], \(rows.messages)::text[])
                AS c(id, state, waiting_on, policy, spec, code, message)
            WHERE j.id = c.id
            """, logger: logger)
        if rows.states.contains(JobState.cancelled.rawValue) {
            transitions += try await propagateDependencies(on: connection, logger: logger)
        }
        return transitions
    }

    /// Settles the children of the jobs this transaction ended so far
    /// (`jobd_propagate_dependencies()`, migration version 5): releases them, or cancels
    /// them and their waiting descendants, however deep.
    ///
    /// - Returns: What happened to each child, in level order, for the change feed. The
    ///   caller announces them: the commit-time trigger then finds nothing left to do.
    static func propagateDependencies(on connection: PostgresConnection, logger: Logger) async throws
        -> [DependencyTransition]
    {
        var transitions: [DependencyTransition] = []
        for try await (id, kind, parent, parentStateText, uid) in try await connection.query(
            "SELECT job_id, kind, parent_id, parent_state, submitter_uid FROM jobd_propagate_dependencies()",
            logger: logger
        ).decode((Int64, String, Int64?, String?, Int64?).self) {
            let owner = uid.map { UInt32(truncatingIfNeeded: $0) }
            if kind == "released" {
                transitions.append(DependencyTransition(jobID: JobID(id), kind: .released, submitterUID: owner))
            } else if let parent, let parentState = parentStateText.flatMap(JobState.init(rawValue:)) {
                transitions.append(
                    DependencyTransition(
                        jobID: JobID(id), kind: .failed(parent: JobID(parent), parentState: parentState),
                        submitterUID: owner))
            } else {
                throw StoreError(.badData, "job \(id) was settled as \(kind) without its parent")
            }
        }
        return transitions
    }
}
