import Foundation
import JobdModel

/// A schedule to store: its declaration with `timezone` and `missed` resolved, where it
/// came from, and who owns it.
public struct NewSchedule: Sendable, Hashable {
    public var spec: ScheduleSpec
    public var source: ScheduleSource
    /// The declaring uid (`api`), nil for the configuration file's.
    public var ownerUID: UInt32?

    public init(spec: ScheduleSpec, source: ScheduleSource, ownerUID: UInt32?) {
        self.spec = spec
        self.source = source
        self.ownerUID = ownerUID
    }
}

/// What `ScheduleStore.putSchedule(_:now:)` did.
public enum SchedulePutOutcome: Sendable, Hashable {
    /// A new schedule; it fires from its first slot after `now`.
    case created(ScheduleRecord)
    /// The caller's schedule of that name was replaced; its `last_slot` is kept, so no slot
    /// fires twice.
    case replaced(ScheduleRecord)
    /// The name belongs to another owner, or (for `api`) to the configuration file.
    case taken(ScheduleRecord)
}

/// What `ScheduleStore.syncConfiguredSchedules(_:now:)` changed, by name.
public struct ConfiguredSchedulesChange: Sendable, Hashable {
    public var added: [String] = []
    public var changed: [String] = []
    public var removed: [String] = []
    /// Names of the file that an API schedule holds: left alone, and logged by the caller.
    public var conflicting: [String] = []

    public init() {}

    public var isEmpty: Bool { added.isEmpty && changed.isEmpty && removed.isEmpty }
}

/// Where schedules live: in the same database as the jobs, so that a slot's job and the
/// schedule's progress are seen by every node.
///
/// A slot is fired by inserting its job with the key `schedule:<name>:<slot>` (an
/// ordinary idempotent insert) and then advancing the schedule's `last_slot`: a crash in
/// between fires nothing twice (the key), and two nodes firing at once create one job.
public protocol ScheduleStore: Sendable {
    /// Creates the schedule, or replaces the one of that name when it has the same source
    /// and owner; in one statement, so two callers racing for a name cannot both win.
    ///
    /// - Throws: `StoreError`.
    func putSchedule(_ schedule: NewSchedule, now: Date) async throws -> SchedulePutOutcome

    /// Every schedule, by name.
    ///
    /// - Throws: `StoreError`.
    func schedules() async throws -> [ScheduleRecord]

    /// The schedule with this name, or nil.
    ///
    /// - Throws: `StoreError`.
    func schedule(named name: String) async throws -> ScheduleRecord?

    /// Deletes a schedule (its jobs stay).
    ///
    /// - Returns: False when no schedule has this name.
    /// - Throws: `StoreError`.
    func deleteSchedule(named name: String) async throws -> Bool

    /// Pauses or resumes a schedule. A resume moves `last_slot` to `now`: the slots that
    /// passed while paused do not fire.
    ///
    /// - Returns: The schedule as changed; nil when no schedule has this name.
    /// - Throws: `StoreError`.
    func setSchedulePaused(named name: String, paused: Bool, now: Date) async throws -> ScheduleRecord?

    /// Makes the configuration file's schedules exactly `schedules` (all with source
    /// `config`), in one transaction: new ones are added, changed ones replaced (keeping
    /// `last_slot` and `paused`), and those no longer in the file deleted.
    ///
    /// - Throws: `StoreError`.
    func syncConfiguredSchedules(_ schedules: [ScheduleSpec], now: Date) async throws -> ConfiguredSchedulesChange

    /// Records that a schedule dealt with every slot up to `slot`: `last_slot` only moves
    /// forward (a late writer never moves it back), and `lastJobID`, when given, is the
    /// job of that slot.
    ///
    /// - Throws: `StoreError`.
    func advanceSchedule(named name: String, to slot: Date, lastJobID: JobID?, now: Date) async throws

    /// True when this node is the one that fires schedules: always for an engine with one
    /// node; on PostgreSQL, the leader. The change feed reports `leadershipChanged`.
    var firesSchedules: Bool { get }
}

/// What a sync of the configuration file's schedules writes, worked out from the stored
/// schedules: the same decision for every engine, which then runs its own statements.
public struct ConfiguredSchedulesPlan: Sendable {
    /// Configured schedules no longer in the file.
    public var deletions: [String] = []
    /// Configured schedules whose declaration changed.
    public var updates: [ScheduleSpec] = []
    /// Schedules new to the store.
    public var insertions: [ScheduleSpec] = []
    /// What the sync reports.
    public var change = ConfiguredSchedulesChange()

    /// The plan for making the configured schedules among `existing` exactly `wanted`.
    public init(existing: [ScheduleRecord], wanted: [ScheduleSpec]) {
        let byName = Dictionary(existing.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let names = Set(wanted.map(\.name))
        for record in existing where record.source == .config && !names.contains(record.name) {
            deletions.append(record.name)
        }
        for spec in wanted {
            guard let current = byName[spec.name] else {
                insertions.append(spec)
                continue
            }
            if current.source != .config {
                change.conflicting.append(spec.name)
            } else if current.spec != spec {
                updates.append(spec)
            }
        }
        change.removed = deletions
        change.changed = updates.map(\.name)
        change.added = insertions.map(\.name)
    }
}
