import Foundation
import JobdModel
import NIOHTTP1

/// Schedules: cron made durable.
///
/// Names are checked here before they go into a path (`ScheduleSpec.isValidName`): a name
/// with a `/` or `?` would name another route.
extension JobdClient {
    /// Creates a schedule, or replaces the caller's own of that name (its progress kept).
    ///
    /// - Returns: The stored schedule with its next fire times, and whether it is new.
    /// - Throws: `APIError` `invalid_spec` (the field named: `cron`, `timezone`,
    ///   `job.url`, …), `schedule_exists`, or `ClientError`.
    public func putSchedule(_ spec: ScheduleSpec) async throws -> ScheduleRecord {
        try await send(.POST, APIRoutes.schedules, body: encode(spec), as: ScheduleRecord.self)
    }

    /// Every schedule the caller may see, by name, each with its next five fire times.
    ///
    /// - Throws: `APIError`, or `ClientError`.
    public func schedules() async throws -> [ScheduleRecord] {
        try await send(.GET, APIRoutes.schedules, as: ScheduleList.self).schedules
    }

    /// One schedule.
    ///
    /// - Throws: `APIError` `schedule_not_found`, or `ClientError`.
    public func schedule(_ name: String) async throws -> ScheduleRecord {
        try await send(.GET, APIRoutes.schedule(try Self.checkedName(name)), as: ScheduleRecord.self)
    }

    /// Deletes a schedule (its jobs stay).
    ///
    /// - Returns: The schedule as it was.
    /// - Throws: `APIError` `schedule_not_found`, `invalid_state` (declared in the
    ///   configuration file), or `ClientError`.
    public func deleteSchedule(_ name: String) async throws -> ScheduleRecord {
        try await send(.DELETE, APIRoutes.schedule(try Self.checkedName(name)), as: ScheduleRecord.self)
    }

    /// Pauses (true) or resumes (false) a schedule; a resume skips the slots that passed.
    ///
    /// - Throws: `APIError` `schedule_not_found`, or `ClientError`.
    public func setSchedulePaused(_ name: String, paused: Bool) async throws -> ScheduleRecord {
        try await send(
            .POST, APIRoutes.schedulePause(try Self.checkedName(name), paused: paused), as: ScheduleRecord.self)
    }

    private static func checkedName(_ name: String) throws -> String {
        guard ScheduleSpec.isValidName(name) else {
            throw APIError(.scheduleNotFound, "no schedule is named \(name.debugDescription)")
        }
        return name
    }
}
