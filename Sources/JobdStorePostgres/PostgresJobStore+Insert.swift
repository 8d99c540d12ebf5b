import Foundation
import JobdModel
import JobdStore
import PostgresNIO

extension PostgresJobStore {
    /// The advisory lock that serializes inserts under a `max_queued` cap, so two nodes
    /// cannot both see room for the last slot.
    static let queueCapLock: Int64 = 0x6A6F_6264_0002

    /// The new rows as one array per column, for `unnest`: PostgresNIO sends arrays in
    /// binary, where a `jsonb_to_recordset` payload had to be encoded as JSON here and
    /// parsed there. Arrays hold no NULL, so an absent value travels as a value no row can
    /// have (NaN, -1, ''), turned back into NULL by `NULLIF`. `insertBatch` sends the same
    /// columns.
    struct InsertColumns: Sendable {
        /// The ids, drawn from `jobs_id_seq`.
        var ids: [Int64] = []
        /// `JobKind` raw values.
        var kinds: [String] = []
        /// The specs' JSON.
        var specs: [String] = []
        /// The priorities.
        var priorities: [Int] = []
        /// `run_at`, unix seconds.
        var runAts: [Double] = []
        /// The attempt budgets.
        var maxAttempts: [Int] = []
        /// Timeouts in seconds; NaN for none.
        var timeouts: [Double] = []
        /// `InterruptPolicy` raw values.
        var onInterrupts: [String] = []
        /// Idempotency keys; '' for none.
        var keys: [String] = []
        /// Submitter uids; -1 for none.
        var uids: [Int64] = []
        /// Fetch hosts (the per-host limit's key); '' for none.
        var hosts: [String] = []
        /// When each key stops holding (`key_window` after the submit), unix seconds; NaN
        /// for none.
        var keyExpiresAts: [Double] = []
        /// Each job's tags, joined by spaces (no tag holds one: `JobSpec.isValidTag`); ''
        /// for none.
        var tags: [String] = []

        /// No rows.
        var isEmpty: Bool { ids.isEmpty }
        /// How many rows.
        var count: Int { ids.count }

        /// Adds the row of `job`, stored as `id` with `spec` (its spec's JSON), submitted at
        /// `now`.
        mutating func append(id: Int64, job: NewJob, spec: String, now: Date) {
            ids.append(id)
            kinds.append(job.spec.kind.rawValue)
            specs.append(spec)
            priorities.append(job.priority)
            runAts.append(job.runAt.timeIntervalSince1970)
            maxAttempts.append(job.maxAttempts)
            timeouts.append(job.timeout ?? .nan)
            onInterrupts.append(job.onInterrupt.rawValue)
            keys.append(job.spec.key ?? "")
            uids.append(job.submitterUID.map { Int64($0) } ?? -1)
            let host: String? = if case .fetch(let fetch) = job.spec.payload { fetch.hostKey } else { nil }
            hosts.append(host ?? "")
            let window = job.spec.key == nil ? nil : job.spec.keyWindow
            keyExpiresAts.append(window.map { now.timeIntervalSince1970 + $0 } ?? .nan)
            tags.append((job.spec.tags ?? []).joined(separator: " "))
        }
    }

    /// The columns `insert` and `insertBatch` fill from `InsertColumns`, after `id`, in the
    /// order their `SELECT … FROM unnest(…)` gives them.
    static let insertedColumns = """
        kind, spec, state, priority, run_at, created_at, updated_at, max_attempts, timeout, on_interrupt,
        idempotency_key, submitter_uid, host, key_expires_at, tags
        """

    /// Stores new jobs, all in one transaction, as `JobStore.insert` describes.
    ///
    /// Ids are drawn from the sequence first, in order, so a batch's ids ascend in submit
    /// order. Idempotency keys are race-free across nodes: the insert is `ON CONFLICT DO
    /// NOTHING` on the unique key, and a key taken meanwhile by another node's commit is
    /// read back after it. Jobs with `after` are stored as the others, then given their
    /// state, policy and parent count by `recordDependencies` in the same transaction; they
    /// do not count against `maxQueued`.
    ///
    /// - Throws: `StoreError` `queue_full`, `key_taken`, `unknown_dependency` (naming the
    ///   entry in `field`), or a storage code; then nothing is stored.
    public func insert(_ jobs: [NewJob], maxQueued: Int?, now: Date) async throws -> [InsertOutcome] {
        guard !jobs.isEmpty else { return [] }
        let encoder = JSONCoding.makeEncoder()
        let specs = try jobs.map {
            try JSONText.encode($0.spec) ?? String(decoding: try encoder.encode($0.spec), as: UTF8.self)
        }
        let logger = self.logger
        let recentSpecs = self.recentSpecs
        return try await transaction("cannot store the jobs", operations: jobs.count) { connection in
            if maxQueued != nil {
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.queueCapLock))", logger: logger)
            }
            var ids: [Int64] = []
            ids.reserveCapacity(jobs.count)
            for try await id in try await connection.query(
                "SELECT nextval('jobs_id_seq') FROM generate_series(1, \(jobs.count))", logger: logger
            ).decode(Int64.self) {
                ids.append(id)
            }
            ids.sort()
            // Keys already taken before this insert, and keys repeated inside it. Holders
            // whose window has passed give their keys up first (`releaseExpiredKeys`).
            let keys = Array(Set(jobs.compactMap(\.spec.key)))
            try await Self.releaseExpiredKeys(keys, now: now, on: connection, logger: logger)
            var existing = try await Self.owners(ofKeys: keys, on: connection, logger: logger)
            var outcomes: [InsertOutcome?] = Array(repeating: nil, count: jobs.count)
            var rows = InsertColumns()
            var firstWithKey: [String: (id: Int64, uid: UInt32?)] = [:]
            for (index, job) in jobs.enumerated() {
                if let key = job.spec.key {
                    if let taken = existing[key] ?? firstWithKey[key] {
                        guard taken.uid == job.submitterUID else {
                            throw StoreError(
                                .keyTaken, "the key \(key.debugDescription) belongs to a job of another user")
                        }
                        outcomes[index] = InsertOutcome(id: JobID(taken.id), created: false)
                        continue
                    }
                    firstWithKey[key] = (ids[index], job.submitterUID)
                }
                rows.append(id: ids[index], job: job, spec: specs[index], now: now)
            }
            var queuedBefore = 0
            if let maxQueued {
                for try await count in try await connection.query(
                    "SELECT count(*) FROM (SELECT 1 FROM jobs WHERE state = 'queued' LIMIT \(maxQueued + 1)) AS q",
                    logger: logger
                ).decode(Int.self) {
                    queuedBefore = count
                }
            }
            var inserted = Set<Int64>()
            if !rows.isEmpty {
                // The tags of the rows stored (not of those a taken key skipped) in the same
                // statement.
                for try await id in try await connection.query(
                    """
                    WITH stored AS (
                        INSERT INTO jobs (id, \(unescaped: Self.insertedColumns))
                        SELECT id, kind, spec, 'queued', priority, to_timestamp(run_at), \(now), \(now), max_attempts,
                            NULLIF(timeout, 'NaN'), on_interrupt, NULLIF(key, ''), NULLIF(uid, -1), NULLIF(host, ''),
                            to_timestamp(NULLIF(key_expires_at, 'NaN')), string_to_array(NULLIF(tags, ''), ' ')
                        FROM unnest(\(rows.ids)::bigint[], \(rows.kinds)::text[], \(rows.specs)::text[],
                            \(rows.priorities)::integer[], \(rows.runAts)::double precision[],
                            \(rows.maxAttempts)::integer[], \(rows.timeouts)::double precision[],
                            \(rows.onInterrupts)::text[], \(rows.keys)::text[], \(rows.uids)::bigint[],
                            \(rows.hosts)::text[], \(rows.keyExpiresAts)::double precision[], \(rows.tags)::text[])
                            AS r(id, kind, spec, priority, run_at, max_attempts, timeout, on_interrupt, key, uid, host,
                                key_expires_at, tags)
                        ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
                        RETURNING id, tags
                    ), tagged AS (
                        INSERT INTO job_tags (tag, job_id) SELECT unnest(tags), id FROM stored WHERE tags IS NOT NULL
                    )
                    SELECT id FROM stored
                    """, logger: logger
                ).decode(Int64.self) {
                    inserted.insert(id)
                }
            }
            if inserted.count < rows.count {
                // Another node committed one of these keys after the look above.
                existing = try await Self.owners(ofKeys: keys, on: connection, logger: logger)
            }
            for (index, job) in jobs.enumerated() where outcomes[index] == nil {
                if inserted.contains(ids[index]) {
                    outcomes[index] = InsertOutcome(id: JobID(ids[index]), created: true)
                } else if let key = job.spec.key, let taken = existing[key] ?? firstWithKey[key] {
                    guard taken.uid == job.submitterUID else {
                        throw StoreError(.keyTaken, "the key \(key.debugDescription) belongs to a job of another user")
                    }
                    outcomes[index] = InsertOutcome(id: JobID(taken.id), created: false)
                } else {
                    throw StoreError(.postgres, "job \(ids[index]) was not stored")
                }
            }
            // A job that waits for others is not in the queue yet.
            let created = jobs.indices.count { index in
                inserted.contains(ids[index]) && jobs[index].spec.after?.isEmpty != false
            }
            if let maxQueued, queuedBefore + created > maxQueued {
                throw StoreError(
                    .queueFull,
                    "the queue holds \(queuedBefore) of at most \(maxQueued) jobs; \(created) more do not fit")
            }
            let final = outcomes.compactMap { $0 }
            let finalIDs = final.map(\.id)
            let transitions = try await Self.recordDependencies(
                DependentJob.of(jobs, ids: finalIDs, created: final.map(\.created)), now: now, on: connection,
                logger: logger)
            // Before the commit, so this node's claim right after it finds them. Ids are
            // never reused (a rolled-back insert burns its sequence values), so an entry
            // of a transaction that does not commit is never claimed, only dropped in turn.
            recentSpecs.keep(
                zip(final, jobs).compactMap { outcome, job in
                    outcome.created ? (outcome.id.rawValue, job.spec.resolvingPositions(finalIDs)) : nil
                })
            return (
                final,
                StoreChange.insertedChanges(final, submitters: jobs.map(\.submitterUID))
                    + (transitions.isEmpty ? [] : [.dependencies(transitions)])
            )
        }
    }

    /// Takes these keys from holders whose window has passed by `now`: their
    /// `idempotency_key` becomes NULL, nothing else of them changes.
    ///
    /// The `UPDATE` row-locks each such holder, so concurrent inserts of one key (on any
    /// node) wait here for the first, whose commit leaves the key NULL on the holder: the
    /// others' `UPDATE` then passes the holder over, and they find the key taken by the
    /// first one's new job (`owners`, or the insert's conflict on `jobs_key`).
    static func releaseExpiredKeys(
        _ keys: [String], now: Date, on connection: PostgresConnection, logger: Logger
    ) async throws {
        guard !keys.isEmpty else { return }
        try await connection.query(
            """
            UPDATE jobs SET idempotency_key = NULL
            WHERE idempotency_key = ANY(\(keys)) AND key_expires_at <= \(now)
            """, logger: logger)
    }

    /// The jobs that hold these keys, with their submitters.
    private static func owners(ofKeys keys: [String], on connection: PostgresConnection, logger: Logger) async throws
        -> [String: (id: Int64, uid: UInt32?)]
    {
        guard !keys.isEmpty else { return [:] }
        var owners: [String: (id: Int64, uid: UInt32?)] = [:]
        for try await (id, key, uid) in try await connection.query(
            "SELECT id, idempotency_key, submitter_uid FROM jobs WHERE idempotency_key = ANY(\(keys))", logger: logger
        ).decode((Int64, String, Int64?).self) {
            owners[key] = (id, uid.map { UInt32(truncatingIfNeeded: $0) })
        }
        return owners
    }
}
