import Foundation
import JobdModel
import JobdStore
import PostgresNIO

// Schedules (`ScheduleStore`) on PostgreSQL: the same rows as SQLite's; every change is
// announced to every node (entry "s"), so the leader, which fires them, reads them again.
extension PostgresJobStore {
    /// The advisory lock key of a sync of the configuration file's schedules ("jobd", 7).
    static let scheduleSyncLock: Int64 = 0x6A6F_6264_0007

    private static let scheduleColumns =
        "name, spec, source, owner_uid, paused, created_at, updated_at, last_slot, last_job_id"

    private typealias ScheduleRow = (String, String, String, Int64?, Bool, Date, Date, Date?, Int64?)

    private static func scheduleRecord(_ row: ScheduleRow) throws -> ScheduleRecord {
        let (name, specJSON, sourceText, owner, paused, created, updated, lastSlot, lastJob) = row
        let spec: ScheduleSpec
        do {
            spec = try JSONCoding.makeDecoder().decode(ScheduleSpec.self, from: Data(specJSON.utf8))
        } catch {
            throw StoreError(.badData, "schedule \(name) does not decode: \(error)")
        }
        guard let source = ScheduleSource(rawValue: sourceText) else {
            throw StoreError(.badData, "schedule \(name) has source \(sourceText.debugDescription)")
        }
        return ScheduleRecord(
            spec: spec, source: source, paused: paused, ownerUID: owner.map { UInt32(truncatingIfNeeded: $0) },
            createdAt: created, updatedAt: updated, lastSlot: lastSlot, lastJobID: lastJob.map { JobID($0) })
    }

    private static func encoded(_ spec: ScheduleSpec) throws -> String {
        String(decoding: try JSONCoding.makeEncoder().encode(spec), as: UTF8.self)
    }

    private static func fetchSchedules(
        where condition: PostgresQuery, on connection: PostgresConnection, logger: Logger
    ) async throws -> [ScheduleRecord] {
        var query = PostgresQuery(unsafeSQL: "SELECT \(scheduleColumns) FROM schedules WHERE ")
        query.sql += condition.sql
        query.binds = condition.binds
        query.sql += " ORDER BY name"
        var records: [ScheduleRecord] = []
        for try await row in try await connection.query(query, logger: logger).decode(ScheduleRow.self) {
            records.append(try scheduleRecord(row))
        }
        return records
    }

    public func putSchedule(_ schedule: NewSchedule, now: Date) async throws -> SchedulePutOutcome {
        let json = try Self.encoded(schedule.spec)
        let (name, source, owner) = (schedule.spec.name, schedule.source.rawValue, schedule.ownerUID.map { Int64($0) })
        let logger = self.logger
        return try await transaction("cannot store schedule \(name)") { connection in
            // One statement: two nodes racing for a name cannot both win. A replace keeps
            // last_slot, paused and created_at, and happens only for the same source and
            // owner; a new schedule starts at `now` (no slot before its creation fires).
            var created: Bool?
            for try await inserted in try await connection.query(
                """
                INSERT INTO schedules (name, spec, source, owner_uid, created_at, updated_at, last_slot)
                VALUES (\(name), \(json), \(source), \(owner), \(now), \(now), \(now))
                ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at
                WHERE schedules.source = excluded.source AND schedules.owner_uid IS NOT DISTINCT FROM excluded.owner_uid
                RETURNING xmax = 0
                """, logger: logger
            ).decode(Bool.self) {
                created = inserted
            }
            let records = try await Self.fetchSchedules(where: "name = \(name)", on: connection, logger: logger)
            guard let record = records.first else {
                throw StoreError(.badData, "schedule \(name) vanished while it was written")
            }
            switch created {
            case nil: return (.taken(record), [])
            case true?: return (.created(record), [.schedulesChanged])
            case false?: return (.replaced(record), [.schedulesChanged])
            }
        }
    }

    public func schedules() async throws -> [ScheduleRecord] {
        let logger = self.logger
        return try await read("cannot read the schedules") { connection in
            try await Self.fetchSchedules(where: "true", on: connection, logger: logger)
        }
    }

    public func schedule(named name: String) async throws -> ScheduleRecord? {
        let logger = self.logger
        return try await read("cannot read schedule \(name)") { connection in
            try await Self.fetchSchedules(where: "name = \(name)", on: connection, logger: logger).first
        }
    }

    public func deleteSchedule(named name: String) async throws -> Bool {
        let logger = self.logger
        return try await transaction("cannot delete schedule \(name)") { connection in
            var deleted = false
            for try await _ in try await connection.query(
                "DELETE FROM schedules WHERE name = \(name) RETURNING name", logger: logger
            ).decode(String.self) {
                deleted = true
            }
            return (deleted, deleted ? [.schedulesChanged] : [])
        }
    }

    public func setSchedulePaused(named name: String, paused: Bool, now: Date) async throws -> ScheduleRecord? {
        let logger = self.logger
        return try await transaction("cannot pause or resume schedule \(name)") { connection in
            // Resuming skips the slots that passed while paused: last_slot moves to now.
            try await connection.query(
                """
                UPDATE schedules SET paused = \(paused), updated_at = \(now),
                    last_slot = CASE WHEN paused AND NOT \(paused) THEN greatest(last_slot, \(now)) ELSE last_slot END
                WHERE name = \(name)
                """, logger: logger)
            let record = try await Self.fetchSchedules(where: "name = \(name)", on: connection, logger: logger).first
            return (record, record == nil ? [] : [.schedulesChanged])
        }
    }

    public func syncConfiguredSchedules(_ schedules: [ScheduleSpec], now: Date) async throws
        -> ConfiguredSchedulesChange
    {
        let encoded = try Dictionary(
            schedules.map { ($0.name, try Self.encoded($0)) }, uniquingKeysWith: { first, _ in first })
        let logger = self.logger
        return try await transaction("cannot store the configured schedules") { connection in
            // Nodes syncing at once take turns; the last file read wins (every node of a
            // cluster should declare the same schedules: docs/postgres.md).
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.scheduleSyncLock))", logger: logger)
            let existing = try await Self.fetchSchedules(where: "true", on: connection, logger: logger)
            let plan = ConfiguredSchedulesPlan(existing: existing, wanted: schedules)
            for name in plan.deletions {
                try await connection.query(
                    "DELETE FROM schedules WHERE name = \(name) AND source = 'config'", logger: logger)
            }
            for spec in plan.updates {
                try await connection.query(
                    "UPDATE schedules SET spec = \(encoded[spec.name] ?? "") , updated_at = \(now) WHERE name = \(spec.name)",
                    logger: logger)
            }
            for spec in plan.insertions {
                try await connection.query(
                    """
                    INSERT INTO schedules (name, spec, source, created_at, updated_at, last_slot)
                    VALUES (\(spec.name), \(encoded[spec.name] ?? ""), 'config', \(now), \(now), \(now))
                    ON CONFLICT (name) DO NOTHING
                    """, logger: logger)
            }
            let change = plan.change
            return (change, change.isEmpty ? [] : [.schedulesChanged])
        }
    }

    public func advanceSchedule(named name: String, to slot: Date, lastJobID: JobID?, now: Date) async throws {
        let logger = self.logger
        let job = lastJobID?.rawValue
        try await transaction("cannot record the firing of schedule \(name)") { connection in
            try await connection.query(
                """
                UPDATE schedules SET last_slot = \(slot), last_job_id = coalesce(\(job), last_job_id)
                WHERE name = \(name) AND (last_slot IS NULL OR last_slot < \(slot))
                """, logger: logger)
            return ((), [])
        }
    }

    /// The leader fires the schedules; the change feed reports `leadershipChanged`.
    public var firesSchedules: Bool { membership.isLeader }
}
