import Foundation
import GRDB
import JobdModel
import JobdStore

// Schedules (`ScheduleStore`): one row per schedule, its declaration as JSON beside the
// columns the store itself compares (source, owner, paused, last_slot).
extension SQLiteJobStore {
    /// Schema version 7: the schedules table.
    static func migrateSchedules(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE schedules (
                    name TEXT PRIMARY KEY,
                    spec TEXT NOT NULL,
                    source TEXT NOT NULL,
                    owner_uid INTEGER,
                    paused INTEGER NOT NULL DEFAULT 0,
                    created_at REAL NOT NULL,
                    updated_at REAL NOT NULL,
                    last_slot REAL,
                    last_job_id INTEGER
                ) WITHOUT ROWID;
                """)
    }

    static let scheduleColumns =
        "name, spec, source, owner_uid, paused, created_at, updated_at, last_slot, last_job_id"

    /// One schedule row as a record (no `next` times: the server adds them).
    static func scheduleRecord(from row: Row) throws -> ScheduleRecord {
        let specJSON: String = row["spec"]
        let spec: ScheduleSpec
        do {
            spec = try JSONCoding.makeDecoder().decode(ScheduleSpec.self, from: Data(specJSON.utf8))
        } catch {
            throw StoreError(.badData, "schedule \(row["name"] as String? ?? "?") does not decode: \(error)")
        }
        let sourceText: String = row["source"]
        guard let source = ScheduleSource(rawValue: sourceText) else {
            throw StoreError(.badData, "schedule \(spec.name) has source \(sourceText.debugDescription)")
        }
        let owner: Int64? = row["owner_uid"]
        let lastSlot: Double? = row["last_slot"]
        let lastJob: Int64? = row["last_job_id"]
        return ScheduleRecord(
            spec: spec, source: source, paused: row["paused"], ownerUID: owner.map { UInt32(truncatingIfNeeded: $0) },
            createdAt: Date(timeIntervalSince1970: row["created_at"]),
            updatedAt: Date(timeIntervalSince1970: row["updated_at"]),
            lastSlot: lastSlot.map { Date(timeIntervalSince1970: $0) }, lastJobID: lastJob.map { JobID($0) })
    }

    static func encodedSchedule(_ spec: ScheduleSpec) throws -> String {
        String(decoding: try JSONCoding.makeEncoder().encode(spec), as: UTF8.self)
    }

    private static func fetchSchedule(named name: String, in db: Database) throws -> ScheduleRecord? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT \(scheduleColumns) FROM schedules WHERE name = ?"), arguments: [name]
        ).map(scheduleRecord(from:))
    }

    private func announceSchedules(_ changed: Bool) {
        if changed { announce([.schedulesChanged]) }
    }

    public func putSchedule(_ schedule: NewSchedule, now: Date) async throws -> SchedulePutOutcome {
        let json = try Self.encodedSchedule(schedule.spec)
        let nowSeconds = now.timeIntervalSince1970
        let outcome = try await write("cannot store schedule \(schedule.spec.name)") { db -> SchedulePutOutcome in
            // One writer: the look and the write below are one atomic step.
            if let current = try Self.fetchSchedule(named: schedule.spec.name, in: db) {
                guard current.source == schedule.source, current.ownerUID == schedule.ownerUID else {
                    return .taken(current)
                }
                // A replace keeps last_slot, paused and created_at: no slot fires twice.
                try db.cachedStatement(sql: "UPDATE schedules SET spec = ?, updated_at = ? WHERE name = ?")
                    .execute(arguments: [json, nowSeconds, schedule.spec.name])
            } else {
                // A new schedule starts at `now`: no slot before its creation fires.
                try db.cachedStatement(
                    sql: """
                        INSERT INTO schedules (name, spec, source, owner_uid, created_at, updated_at, last_slot)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """
                ).execute(arguments: [
                    schedule.spec.name, json, schedule.source.rawValue, schedule.ownerUID.map { Int64($0) },
                    nowSeconds, nowSeconds, nowSeconds,
                ])
                guard let record = try Self.fetchSchedule(named: schedule.spec.name, in: db) else {
                    throw StoreError(.badData, "schedule \(schedule.spec.name) vanished while it was written")
                }
                return .created(record)
            }
            guard let record = try Self.fetchSchedule(named: schedule.spec.name, in: db) else {
                throw StoreError(.badData, "schedule \(schedule.spec.name) vanished while it was written")
            }
            return .replaced(record)
        }
        if case .taken = outcome {} else { announceSchedules(true) }
        return outcome
    }

    public func schedules() async throws -> [ScheduleRecord] {
        try await read("cannot read the schedules") { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT \(Self.scheduleColumns) FROM schedules ORDER BY name"))
                .map(Self.scheduleRecord(from:))
        }
    }

    public func schedule(named name: String) async throws -> ScheduleRecord? {
        try await read("cannot read schedule \(name)") { db in try Self.fetchSchedule(named: name, in: db) }
    }

    public func deleteSchedule(named name: String) async throws -> Bool {
        let deleted = try await write("cannot delete schedule \(name)") { db in
            try db.cachedStatement(sql: "DELETE FROM schedules WHERE name = ?").execute(arguments: [name])
            return db.changesCount > 0
        }
        announceSchedules(deleted)
        return deleted
    }

    public func setSchedulePaused(named name: String, paused: Bool, now: Date) async throws -> ScheduleRecord? {
        let nowSeconds = now.timeIntervalSince1970
        let record = try await write("cannot pause or resume schedule \(name)") { db -> ScheduleRecord? in
            // Resuming skips the slots that passed while paused: last_slot moves to now.
            try db.cachedStatement(
                sql: """
                    UPDATE schedules SET paused = ?, updated_at = ?,
                        last_slot = CASE WHEN paused AND NOT ? THEN max(coalesce(last_slot, 0), ?) ELSE last_slot END
                    WHERE name = ?
                    """
            ).execute(arguments: [paused, nowSeconds, paused, nowSeconds, name])
            return try Self.fetchSchedule(named: name, in: db)
        }
        announceSchedules(record != nil)
        return record
    }

    public func syncConfiguredSchedules(_ schedules: [ScheduleSpec], now: Date) async throws
        -> ConfiguredSchedulesChange
    {
        let encoded = try Dictionary(
            schedules.map { ($0.name, try Self.encodedSchedule($0)) }, uniquingKeysWith: { first, _ in first })
        let nowSeconds = now.timeIntervalSince1970
        let change = try await write("cannot store the configured schedules") { db -> ConfiguredSchedulesChange in
            let existing = try Row.fetchAll(
                db.cachedStatement(sql: "SELECT \(Self.scheduleColumns) FROM schedules")
            ).map(Self.scheduleRecord(from:))
            let plan = ConfiguredSchedulesPlan(existing: existing, wanted: schedules)
            for name in plan.deletions {
                try db.cachedStatement(sql: "DELETE FROM schedules WHERE name = ? AND source = 'config'")
                    .execute(arguments: [name])
            }
            for spec in plan.updates {
                try db.cachedStatement(sql: "UPDATE schedules SET spec = ?, updated_at = ? WHERE name = ?")
                    .execute(arguments: [encoded[spec.name], nowSeconds, spec.name])
            }
            for spec in plan.insertions {
                try db.cachedStatement(
                    sql: """
                        INSERT INTO schedules (name, spec, source, created_at, updated_at, last_slot)
                        VALUES (?, ?, 'config', ?, ?, ?)
                        """
                ).execute(arguments: [spec.name, encoded[spec.name], nowSeconds, nowSeconds, nowSeconds])
            }
            return plan.change
        }
        announceSchedules(!change.isEmpty)
        return change
    }

    public func advanceSchedule(named name: String, to slot: Date, lastJobID: JobID?, now: Date) async throws {
        let slotSeconds = slot.timeIntervalSince1970
        try await write("cannot record the firing of schedule \(name)") { db in
            try db.cachedStatement(
                sql: """
                    UPDATE schedules SET last_slot = ?, last_job_id = coalesce(?, last_job_id)
                    WHERE name = ? AND (last_slot IS NULL OR last_slot < ?)
                    """
            ).execute(arguments: [slotSeconds, lastJobID?.rawValue, name, slotSeconds])
        }
    }

    /// One node: it fires every schedule.
    public var firesSchedules: Bool { true }
}
