import Foundation

/// What a schedule does with the slots that passed while no jobd could fire them (the
/// daemon was stopped, or on PostgreSQL the whole cluster was down).
public enum MissedSlotPolicy: String, Codable, Hashable, Sendable, CaseIterable {
    /// Fire none of them: the next slot is the next one to come (cron's behaviour).
    case skip
    /// Fire the latest of them once (systemd's `Persistent=true`).
    case once
    /// Fire each of them, oldest first, up to `ScheduleSpec.maxMissedSlots` (the latest ones).
    case all
}

/// A schedule as declared: `POST /v1/schedules` or an entry of `schedules:` in the
/// configuration file.
///
/// `{"name":"nightly","cron":"30 2 * * *","timezone":"Europe/Berlin","job":{spec},
/// "missed":"once"}`. Each slot of the cron expression, in the zone, becomes one job with
/// the idempotency key `schedule:<name>:<slot>` (the slot in UTC, RFC 3339), so a slot
/// runs once across restarts and nodes.
public struct ScheduleSpec: Codable, Hashable, Sendable {
    /// The schedule's name: 1 to 64 characters of `A-Z a-z 0-9 _ . -`, starting with a
    /// letter or digit; unique in the daemon (or the cluster).
    public var name: String
    /// Five cron fields (minute hour day-of-month month day-of-week) or a macro
    /// (`@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`).
    public var cron: String
    /// The IANA zone the cron fields are read in (`Europe/Berlin`); absent means the
    /// daemon's local zone, which is stored with the schedule when it is created.
    public var timezone: String?
    /// The job each slot submits. It may not carry `key` (the slot's key is set),
    /// `after` or `run_at`.
    public var job: JobSpec
    /// Slots that passed while nothing could fire them. Default `skip`.
    public var missed: MissedSlotPolicy?

    /// The most missed slots `missed: all` fires: the latest ones.
    public static let maxMissedSlots = 100
    /// The prefix of the keys of schedule firings; a job submitted by hand may not use it.
    public static let keyPrefix = "schedule:"

    public init(
        name: String, cron: String, timezone: String? = nil, job: JobSpec, missed: MissedSlotPolicy? = nil
    ) {
        self.name = name
        self.cron = cron
        self.timezone = timezone
        self.job = job
        self.missed = missed
    }

    /// Decodes and validates a request body.
    ///
    /// - Throws: `APIError` `invalid_json`, `unknown_kind`, `invalid_spec` (naming the field:
    ///   `cron`, `timezone`, `job.url`, …) or `invalid_url`.
    public static func decode(_ data: some DataProtocol) throws(APIError) -> ScheduleSpec {
        let body = Data(data)
        guard String(validating: body, as: UTF8.self) != nil else {
            throw APIError(.invalidJSON, "the body is not valid UTF-8")
        }
        let spec: ScheduleSpec
        do {
            spec = try JSONCoding.makeDecoder(strict: true).decode(ScheduleSpec.self, from: body)
        } catch let error as DecodingError {
            throw APIError(decoding: error)
        } catch {
            throw APIError(.invalidJSON, "the body is not valid JSON")
        }
        try spec.validate()
        return spec
    }

    /// True when `name` is a valid schedule name.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.utf8.count <= 64 else { return false }
        func allowed(_ scalar: Unicode.Scalar) -> Bool {
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "_.-".unicodeScalars.contains(scalar))
        }
        return first.isASCII && CharacterSet.alphanumerics.contains(first) && name.unicodeScalars.allSatisfy(allowed)
    }

    /// The parsed cron expression and zone (nil zone: the daemon's local one).
    ///
    /// - Throws: `APIError` `invalid_spec` naming `cron` or `timezone`.
    public func parsed(fieldPrefix: String = "") throws(APIError) -> (cron: CronExpression, zone: TimeZone?) {
        let expression: CronExpression
        do {
            expression = try CronExpression(parsing: cron)
        } catch {
            throw APIError(.invalidSpec, "cron: \(error)", field: fieldPrefix + "cron")
        }
        guard let timezone else { return (expression, nil) }
        do {
            return (expression, try CronExpression.timeZone(named: timezone))
        } catch {
            throw APIError(.invalidSpec, "\(error)", field: fieldPrefix + "timezone")
        }
    }

    /// Checks the values beyond what decoding checks.
    ///
    /// - Parameter fieldPrefix: Prepended to field names in errors (`schedules[2].`).
    /// - Throws: `APIError` `invalid_spec` (field named) or `invalid_url`.
    public func validate(fieldPrefix: String = "") throws(APIError) {
        guard Self.isValidName(name) else {
            throw APIError(
                .invalidSpec,
                "name must be 1 to 64 characters of A-Z, a-z, 0-9, '_', '.', '-', starting with a letter or digit",
                field: fieldPrefix + "name")
        }
        _ = try parsed(fieldPrefix: fieldPrefix)
        try job.validate(fieldPrefix: fieldPrefix + "job.")
        if job.key != nil {
            throw APIError(
                .invalidSpec, "a schedule's job cannot have a key: each slot's job is keyed by the slot",
                field: fieldPrefix + "job.key")
        }
        if job.after != nil {
            throw APIError(
                .invalidSpec, "a schedule's job cannot wait for other jobs", field: fieldPrefix + "job.after")
        }
        if job.runAt != nil {
            throw APIError(
                .invalidSpec, "a schedule's job runs at its slot; run_at is not allowed",
                field: fieldPrefix + "job.run_at")
        }
    }

    /// The idempotency key of this schedule's job for `slot`.
    public func key(forSlot slot: Date) -> String {
        Self.keyPrefix + name + ":" + RFC3339.string(from: slot)
    }
}
