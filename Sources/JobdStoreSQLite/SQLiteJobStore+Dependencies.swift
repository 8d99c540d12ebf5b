import Foundation
import GRDB
import JobdModel
import JobdStore

extension SQLiteJobStore {
    /// Schema v5: dependencies (`after`, issue 12).
    ///
    /// `job_dependencies` holds one row per edge, keyed by parent, so the children of a job
    /// that ends are found by one index range; `jobs.waiting_on` counts a waiting job's
    /// parents that have not ended. A trigger puts a job that ends and has children into
    /// `dependency_outbox`; `propagateDependencies` settles them, level by level, inside
    /// the same transaction (a chain of any length, with no trigger recursion: SQLite stops
    /// nesting triggers at 1,000 levels).
    static func migrateDependencies(_ db: Database) throws {
        try db.execute(
            sql: """
                ALTER TABLE jobs ADD COLUMN waiting_on INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE jobs ADD COLUMN on_dependency_failure TEXT NOT NULL DEFAULT 'cancel';
                CREATE TABLE job_dependencies (
                    parent_id INTEGER NOT NULL,
                    child_id INTEGER NOT NULL,
                    PRIMARY KEY (parent_id, child_id)
                ) WITHOUT ROWID;
                CREATE INDEX job_dependencies_child ON job_dependencies(child_id, parent_id);
                CREATE TABLE dependency_outbox (job_id INTEGER PRIMARY KEY);
                CREATE TRIGGER jobs_parent_ended AFTER UPDATE OF state ON jobs
                WHEN OLD.state IN ('waiting', 'queued', 'running') AND NEW.state IN ('succeeded', 'failed', 'cancelled')
                    AND EXISTS (SELECT 1 FROM job_dependencies WHERE parent_id = NEW.id)
                BEGIN
                    INSERT OR IGNORE INTO dependency_outbox (job_id) VALUES (NEW.id);
                END;
                """)
    }

    /// Schema v8: `jobs_parent_ended` without `IN` lists.
    ///
    /// SQLite runs a trigger's `WHEN` in a sub-program entered once per updated row, and
    /// codes `x IN ('a', 'b', 'c')` as an ephemeral table built at the sub-program's first
    /// use, that is, for every row: two tables opened, filled and freed per claimed and per
    /// finished job, 7 % of the CPU of W1 (docs/benchmarks.md). Comparisons chained by `OR`
    /// test the same, with the new state first so that a claim (`running`) stops at once.
    static func migrateParentEndedTrigger(_ db: Database) throws {
        try db.execute(
            sql: """
                DROP TRIGGER jobs_parent_ended;
                CREATE TRIGGER jobs_parent_ended AFTER UPDATE OF state ON jobs
                WHEN (NEW.state = 'succeeded' OR NEW.state = 'failed' OR NEW.state = 'cancelled')
                    AND (OLD.state = 'running' OR OLD.state = 'queued' OR OLD.state = 'waiting')
                    AND EXISTS (SELECT 1 FROM job_dependencies WHERE parent_id = NEW.id)
                BEGIN
                    INSERT OR IGNORE INTO dependency_outbox (job_id) VALUES (NEW.id);
                END;
                """)
    }

    /// Settles the children of every job that ended in this transaction: a child whose
    /// last unfinished parent ended well (or any end, under `on_dependency_failure: run`)
    /// is queued; a child under `cancel` whose parent failed or was cancelled is cancelled
    /// with `dependency_failed`, and its own children are settled in the next round of the
    /// loop. O(children) rows per round.
    ///
    /// The parents that succeeded in one round are settled together: each child's count is
    /// lowered once by the number of its parents among them. A fan-in job after 10,000
    /// jobs thus costs one update per settle round, not one per parent (docs/benchmarks.md,
    /// W6). Failed and cancelled parents go first, one at a time: a child they cancel is no
    /// longer `waiting` when the successes are counted, and a child under `run` has counted
    /// them by then too.
    ///
    /// - Returns: What happened to each child, for the change feed.
    static func propagateDependencies(_ db: Database) throws -> [DependencyTransition] {
        var transitions: [DependencyTransition] = []
        while true {
            // The round's parents with their ends, in one read (not one per parent), then
            // the outbox emptied.
            let parents = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT o.job_id, j.state, j.updated_at FROM dependency_outbox o
                        JOIN jobs j ON j.id = o.job_id ORDER BY o.job_id
                        """))
            if parents.isEmpty {
                // An outbox entry whose job is gone (pruned in the same transaction).
                try db.cachedStatement(sql: "DELETE FROM dependency_outbox").execute()
                return transitions
            }
            try db.cachedStatement(sql: "DELETE FROM dependency_outbox").execute()
            var succeeded: [Int64] = []
            var latest = 0.0
            for row in parents {
                let parent: Int64 = row[0]
                guard let state = JobState(rawValue: row[1]), state.isTerminal else { continue }
                let at: Double = row[2]
                if state == .succeeded {
                    succeeded.append(parent)
                    latest = max(latest, at)
                } else {
                    try settleChildren(ofFailed: parent, state: state, at: at, into: &transitions, in: db)
                }
            }
            if !succeeded.isEmpty {
                try releaseChildren(of: succeeded, at: latest, into: &transitions, in: db)
            }
        }
    }

    /// Lowers the count of every waiting child of `parents` (all succeeded) by its number of
    /// parents among them, queuing those that reach zero.
    private static func releaseChildren(
        of parents: [Int64], at: Double, into transitions: inout [DependencyTransition], in db: Database
    ) throws {
        let list = jsonArray(parents.map(String.init))
        // The children this round releases are read first, along the edge index, and then
        // updated by one statement: SQLite's RETURNING materializes every row it returns (a
        // quarter of a 10,000-child release, measured).
        let children = try Row.fetchCursor(
            db.cachedStatement(
                sql: """
                    SELECT j.id, j.waiting_on, j.submitter_uid, e.n FROM (
                        SELECT child_id, count(*) AS n FROM job_dependencies
                        WHERE parent_id IN (SELECT CAST(value AS INTEGER) FROM json_each(?)) GROUP BY child_id
                    ) e JOIN jobs j ON j.id = e.child_id
                    WHERE j.state = 'waiting'
                    """), arguments: [list])
        while let row = try children.next() {
            guard (row[1] as Int64) - (row[3] as Int64) <= 0 else { continue }
            transitions.append(
                DependencyTransition(
                    jobID: JobID(row[0] as Int64), kind: .released,
                    submitterUID: (row[2] as Int64?).map { UInt32(truncatingIfNeeded: $0) }))
        }
        try db.cachedStatement(
            sql: """
                UPDATE jobs SET waiting_on = waiting_on - e.n,
                    state = CASE WHEN waiting_on - e.n <= 0 THEN 'queued' ELSE state END, updated_at = ?
                FROM (
                    SELECT child_id, count(*) AS n FROM job_dependencies
                    WHERE parent_id IN (SELECT CAST(value AS INTEGER) FROM json_each(?)) GROUP BY child_id
                ) e
                WHERE jobs.id = e.child_id AND jobs.state = 'waiting'
                """
        ).execute(arguments: [at, list])
    }

    /// Settles the children of a parent that failed or was cancelled: those under `run`
    /// count it as ended (and are queued when it was their last), those under `cancel` are
    /// cancelled with `dependency_failed`.
    private static func settleChildren(
        ofFailed parent: Int64, state: JobState, at: Double, into transitions: inout [DependencyTransition],
        in db: Database
    ) throws {
        let children = try Row.fetchCursor(
            db.cachedStatement(
                sql: """
                    SELECT j.id, j.waiting_on, j.submitter_uid FROM job_dependencies d
                    JOIN jobs j ON j.id = d.child_id
                    WHERE d.parent_id = ? AND j.state = 'waiting' AND j.on_dependency_failure = 'run'
                    """), arguments: [parent])
        while let row = try children.next() {
            guard (row[1] as Int64) <= 1 else { continue }
            transitions.append(
                DependencyTransition(
                    jobID: JobID(row[0] as Int64), kind: .released,
                    submitterUID: (row[2] as Int64?).map { UInt32(truncatingIfNeeded: $0) }))
        }
        try db.cachedStatement(
            sql: """
                UPDATE jobs SET waiting_on = waiting_on - 1,
                    state = CASE WHEN waiting_on <= 1 THEN 'queued' ELSE state END, updated_at = ?
                WHERE state = 'waiting' AND on_dependency_failure = 'run'
                    AND id IN (SELECT child_id FROM job_dependencies WHERE parent_id = ?)
                """
        ).execute(arguments: [at, parent])
        let error = DependencyTransition.error(parent: JobID(parent), state: state)
        for cancelled in try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    UPDATE jobs SET state = 'cancelled', waiting_on = 0, error_code = ?, error_message = ?,
                        finished_at = ?, updated_at = ?
                    WHERE state = 'waiting' AND on_dependency_failure = 'cancel'
                        AND id IN (SELECT child_id FROM job_dependencies WHERE parent_id = ?)
                    RETURNING id, submitter_uid
                    """), arguments: [error.code.rawValue, error.message, at, at, parent])
        {
            transitions.append(
                DependencyTransition(
                    jobID: JobID(cancelled["id"] as Int64),
                    kind: .failed(parent: JobID(parent), parentState: state),
                    submitterUID: uid(cancelled)))
        }
    }

    /// The jobs of an insert that wait for others, in `recordDependencies`' form: each
    /// with its spec's positions resolved against `ids` (the insert's ids, in request
    /// order), its index, and whether resolving changed it.
    ///
    /// - Parameter jobs: Per job of the request, its id, spec and submitter; nil for a
    ///   job not created by this insert (an idempotent repeat).
    static func dependents(
        _ jobs: [(id: JobID, spec: JobSpec, submitterUID: UInt32?)?], ids: [JobID]
    ) -> [(id: JobID, spec: JobSpec, index: Int, respec: Bool, submitterUID: UInt32?)] {
        jobs.enumerated().compactMap { index, job in
            guard let job, job.spec.after?.isEmpty == false else { return nil }
            let resolved = job.spec.resolvingPositions(ids)
            return (job.id, resolved, index, resolved != job.spec, job.submitterUID)
        }
    }

    /// Records the `after` edges of jobs just inserted (in the caller's transaction) and
    /// sets each one's state: `waiting` for unfinished parents, `queued` when all have
    /// ended well, `cancelled` (`dependency_failed`) when one failed under `cancel`.
    ///
    /// - Parameters:
    ///   - jobs: Each inserted job with its id, its spec with positions resolved, its index
    ///     in the request, and whether its spec had positions (its stored JSON is then
    ///     written again, with ids).
    /// - Returns: The transitions for the change feed.
    /// - Throws: `StoreError` `unknown_dependency` (field `jobs[i].after[k]`) for a parent
    ///   that does not exist or is another submitter's; the insert is then rolled back.
    static func recordDependencies(
        _ jobs: [(id: JobID, spec: JobSpec, index: Int, respec: Bool, submitterUID: UInt32?)], now: Double,
        in db: Database
    ) throws -> [DependencyTransition] {
        var transitions: [DependencyTransition] = []
        let encoder = JSONCoding.makeEncoder()
        // Many children name the same parents (a fan-out names one 10,000 times): an older
        // job is read once per insert (nothing else changes it in this transaction); a job
        // of this insert is read each time, since this loop may have cancelled it.
        let inserted = Set(jobs.map(\.id))
        var parents: [JobID: (state: JobState, uid: UInt32?)?] = [:]
        for job in jobs {
            if job.respec {
                try db.cachedStatement(sql: "UPDATE jobs SET spec = ? WHERE id = ?").execute(arguments: [
                    String(decoding: try encoder.encode(job.spec), as: UTF8.self), job.id.rawValue,
                ])
            }
            var waitingOn = 0
            var failedParent: (JobID, JobState)?
            let policy = job.spec.onDependencyFailure ?? .cancel
            for (entry, parent) in job.spec.parentIDs.enumerated() {
                if parents[parent] == nil || inserted.contains(parent) {
                    parents[parent] = try Row.fetchOne(
                        db.cachedStatement(sql: "SELECT state, submitter_uid FROM jobs WHERE id = ?"),
                        arguments: [parent.rawValue]
                    ).flatMap { row in JobState(rawValue: row["state"]).map { ($0, uid(row)) } }
                }
                guard let (state, owner) = parents[parent] ?? nil, owner == job.submitterUID else {
                    // Another user's job reads as unknown, as everywhere else.
                    throw StoreError(
                        .unknownDependency, "no job has id \(parent)", field: "jobs[\(job.index)].after[\(entry)]")
                }
                try db.cachedStatement(
                    sql: "INSERT OR IGNORE INTO job_dependencies (parent_id, child_id) VALUES (?, ?)"
                ).execute(arguments: [parent.rawValue, job.id.rawValue])
                if !state.isTerminal {
                    waitingOn += 1
                } else if state != .succeeded, policy == .cancel, failedParent == nil {
                    failedParent = (parent, state)
                }
            }
            if let (parent, state) = failedParent {
                let error = DependencyTransition.error(parent: parent, state: state)
                try db.cachedStatement(
                    sql: """
                        UPDATE jobs SET state = 'cancelled', error_code = ?, error_message = ?, finished_at = ?,
                            updated_at = ?
                        WHERE id = ?
                        """
                ).execute(arguments: [error.code.rawValue, error.message, now, now, job.id.rawValue])
                transitions.append(
                    DependencyTransition(
                        jobID: job.id, kind: .failed(parent: parent, parentState: state), submitterUID: job.submitterUID
                    ))
            } else if waitingOn > 0 {
                try db.cachedStatement(sql: "UPDATE jobs SET waiting_on = ? WHERE id = ?").execute(arguments: [
                    waitingOn, job.id.rawValue,
                ])
                transitions.append(DependencyTransition(jobID: job.id, kind: .waiting, submitterUID: job.submitterUID))
            } else {
                try db.cachedStatement(sql: "UPDATE jobs SET state = 'queued' WHERE id = ?").execute(arguments: [
                    job.id.rawValue
                ])
            }
        }
        return transitions
    }

    private static func uid(_ row: Row) -> UInt32? {
        (row["submitter_uid"] as Int64?).map { UInt32(truncatingIfNeeded: $0) }
    }
}
