import Foundation

/// Where a schedule was declared.
public enum ScheduleSource: String, Codable, Hashable, Sendable {
    /// `POST /v1/schedules` (`jobctl schedule add`): owned by the caller.
    case api
    /// `schedules:` in the configuration file: changed only by editing the file (and
    /// SIGHUP); the API cannot delete it.
    case config
}

/// A schedule as stored, for `GET /v1/schedules`.
public struct ScheduleRecord: Codable, Hashable, Sendable {
    /// The declaration, its `timezone` resolved.
    public var spec: ScheduleSpec
    /// Where it was declared.
    public var source: ScheduleSource
    /// True while paused: its slots pass without firing.
    public var paused: Bool
    /// The uid that declared it through the API (its jobs are that user's); nil for one
    /// from the configuration file, whose jobs belong to the daemon.
    public var ownerUID: UInt32?
    public var createdAt: Date
    public var updatedAt: Date
    /// The latest slot dealt with (fired, or passed by `missed: skip`, or while paused):
    /// the next firing is the first slot after it.
    public var lastSlot: Date?
    /// The job of the latest fired slot.
    public var lastJobID: JobID?
    /// The next fire times (at most five), computed when answering; empty while paused.
    public var next: [Date]

    public init(
        spec: ScheduleSpec, source: ScheduleSource, paused: Bool, ownerUID: UInt32?, createdAt: Date, updatedAt: Date,
        lastSlot: Date?, lastJobID: JobID?, next: [Date] = []
    ) {
        self.spec = spec
        self.source = source
        self.paused = paused
        self.ownerUID = ownerUID
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.lastSlot = lastSlot
        self.lastJobID = lastJobID
        self.next = next
    }

    /// The schedule's name.
    public var name: String { spec.name }

    enum CodingKeys: String, CodingKey {
        case name, cron, timezone, job, missed
        case source, paused
        case ownerUID = "owner_uid"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case lastSlot = "last_slot"
        case lastJobID = "last_job_id"
        case next
    }

    // One flat object on the wire: the declaration's fields beside the stored ones.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        spec = try ScheduleSpec(from: decoder)
        source = try container.decode(ScheduleSource.self, forKey: .source)
        paused = try container.decode(Bool.self, forKey: .paused)
        ownerUID = try container.decodeIfPresent(UInt32.self, forKey: .ownerUID)
        createdAt = try container.decode(Date.self, forKey: .createdAt)
        updatedAt = try container.decode(Date.self, forKey: .updatedAt)
        lastSlot = try container.decodeIfPresent(Date.self, forKey: .lastSlot)
        lastJobID = try container.decodeIfPresent(JobID.self, forKey: .lastJobID)
        next = try container.decodeIfPresent([Date].self, forKey: .next) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        try spec.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(source, forKey: .source)
        try container.encode(paused, forKey: .paused)
        try container.encodeIfPresent(ownerUID, forKey: .ownerUID)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encodeIfPresent(lastSlot, forKey: .lastSlot)
        try container.encodeIfPresent(lastJobID, forKey: .lastJobID)
        try container.encode(next, forKey: .next)
    }
}

/// The body of `GET /v1/schedules`.
public struct ScheduleList: Codable, Hashable, Sendable {
    public var schedules: [ScheduleRecord]

    public init(schedules: [ScheduleRecord]) {
        self.schedules = schedules
    }
}

extension ScheduleRecord {
    /// The record with `next` filled: up to `count` fire times after `now` (and after
    /// `last_slot`); none while paused or when the stored cron or zone no longer parses.
    public func withNextFireTimes(count: Int = 5, after now: Date) -> ScheduleRecord {
        var record = self
        record.next = []
        guard !paused, let (cron, zone) = try? spec.parsed() else { return record }
        let start = max(now, lastSlot ?? now)
        record.next = cron.fireTimes(after: start, in: zone ?? TimeZone(identifier: "UTC")!, count: count)
        return record
    }
}
