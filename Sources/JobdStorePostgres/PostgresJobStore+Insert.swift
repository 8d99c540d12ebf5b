import Foundation
import JobdModel
import JobdStore
import PostgresNIO

extension PostgresJobStore {
    /// The advisory lock that serializes inserts under a `max_queued` cap, so two nodes
    /// cannot both see room for the last slot.
    static let queueCapLock: Int64 = 0x6A6F_6264_0002

    /// One row for `jsonb_to_recordset`.
    private struct InsertRow: Encodable {
        var id: Int64
        var kind: String
        var spec: String
        var priority: Int
        var run_at: Double
        var max_attempts: Int
        var timeout: Double?
        var on_interrupt: String
        var key: String?
        var uid: Int64?
        var host: String?
    }

    /// Stores new jobs, all in one transaction, as `JobStore.insert` describes.
    ///
    /// Ids are drawn from the sequence first, in order, so a batch's ids ascend in submit
    /// order. Idempotency keys are race-free across nodes: the insert is `ON CONFLICT DO
    /// NOTHING` on the unique key, and a key taken meanwhile by another node's commit is
    /// read back after it.
    public func insert(_ jobs: [NewJob], maxQueued: Int?, now: Date) async throws -> [InsertOutcome] {
        guard !jobs.isEmpty else { return [] }
        let encoder = JSONCoding.makeEncoder()
        let specs = try jobs.map { String(decoding: try encoder.encode($0.spec), as: UTF8.self) }
        let logger = self.logger
        return try await transaction("cannot store the jobs", operations: jobs.count) { connection in
            if let maxQueued {
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
            // Keys already taken before this insert, and keys repeated inside it.
            let keys = Array(Set(jobs.compactMap(\.spec.key)))
            var existing = try await Self.owners(ofKeys: keys, on: connection, logger: logger)
            var outcomes: [InsertOutcome?] = Array(repeating: nil, count: jobs.count)
            var rows: [InsertRow] = []
            rows.reserveCapacity(jobs.count)
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
                let host: String? = if case .fetch(let fetch) = job.spec.payload { fetch.hostKey } else { nil }
                rows.append(
                    InsertRow(
                        id: ids[index], kind: job.spec.kind.rawValue, spec: specs[index], priority: job.priority,
                        run_at: job.runAt.timeIntervalSince1970, max_attempts: job.maxAttempts, timeout: job.timeout,
                        on_interrupt: job.onInterrupt.rawValue, key: job.spec.key,
                        uid: job.submitterUID.map { Int64($0) }, host: host))
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
                let payload = String(decoding: try JSONEncoder().encode(rows), as: UTF8.self)
                for try await id in try await connection.query(
                    """
                    INSERT INTO jobs (id, kind, spec, state, priority, run_at, created_at, updated_at, max_attempts,
                        timeout, on_interrupt, idempotency_key, submitter_uid, host)
                    SELECT id, kind, spec, 'queued', priority, to_timestamp(run_at), \(now), \(now), max_attempts,
                        timeout, on_interrupt, key, uid, host
                    FROM jsonb_to_recordset(\(payload)::jsonb) AS r(id bigint, kind text, spec text, priority integer,
                        run_at double precision, max_attempts integer, timeout double precision, on_interrupt text,
                        key text, uid bigint, host text)
                    ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
                    RETURNING id
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
            let created = inserted.count
            if let maxQueued, queuedBefore + created > maxQueued {
                throw StoreError(
                    .queueFull,
                    "the queue holds \(queuedBefore) of at most \(maxQueued) jobs; \(created) more do not fit")
            }
            let final = outcomes.compactMap { $0 }
            return (final, StoreChange.insertedChanges(final, submitters: jobs.map(\.submitterUID)))
        }
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
