import Foundation
import Hummingbird
import JobdModel
import JobdRuntime
import JobdStore

/// The `/v1/schedules` resource: create or replace, list, get, delete, pause, resume.
///
/// A schedule declared through the API belongs to its caller, and its jobs are theirs; a
/// caller who is not an admin sees and changes only their own (another user's answers 404
/// `schedule_not_found`, exactly like one that does not exist). Schedules of the
/// configuration file are the daemon's: admins see and pause them; only the file (and
/// SIGHUP) adds, changes or removes them.
struct SchedulesController: Sendable {
    typealias Context = JobdRequestContext

    let store: any JobStore
    let options: ServerOptions

    func add(to router: Router<Context>) {
        router.post("/v1/schedules", use: put)
        router.get("/v1/schedules", use: list)
        router.get("/v1/schedules/:name", use: get)
        router.delete("/v1/schedules/:name", use: delete)
        router.post("/v1/schedules/:name/pause", use: pause)
        router.post("/v1/schedules/:name/resume", use: resume)
    }

    /// `POST /v1/schedules`: 201 with the new schedule, 200 when it replaced the caller's
    /// own of that name (its progress kept), 409 `schedule_exists` when the name is taken.
    @Sendable func put(_ request: Request, context: Context) async throws -> Response {
        let caller = try context.requireCaller()
        let spec = Self.resolved(
            try await RequestBodyDecoder.decode(request, options: options) { bytes in try ScheduleSpec.decode(bytes) })
        let outcome = try await store.putSchedule(
            NewSchedule(spec: spec, source: .api, ownerUID: caller.peer.uid), now: Date())
        switch outcome {
        case .created(let record):
            return try JSONBody.response(record.withNextFireTimes(after: Date()), status: .created)
        case .replaced(let record):
            return try JSONBody.response(record.withNextFireTimes(after: Date()))
        case .taken(let record):
            let holder = record.source == .config ? "declared in the configuration file" : "another user's"
            throw APIError(
                .scheduleExists, "the schedule name \(spec.name.debugDescription) is taken (\(holder))", field: "name")
        }
    }

    /// `GET /v1/schedules`: the caller's schedules (every one for an admin), by name.
    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        let caller = try context.requireCaller()
        let now = Date()
        let visible = try await store.schedules().filter { Self.isVisible($0, to: caller) }
        return try JSONBody.response(ScheduleList(schedules: visible.map { $0.withNextFireTimes(after: now) }))
    }

    /// `GET /v1/schedules/{name}`: one schedule with its next five fire times.
    @Sendable func get(_ request: Request, context: Context) async throws -> Response {
        let caller = try context.requireCaller()
        let record = try await visibleSchedule(try name(context), to: caller)
        return try JSONBody.response(record.withNextFireTimes(after: Date()))
    }

    /// `DELETE /v1/schedules/{name}`: the deleted schedule (its jobs stay); 409
    /// `invalid_state` for one of the configuration file.
    @Sendable func delete(_ request: Request, context: Context) async throws -> Response {
        let caller = try context.requireCaller()
        let name = try name(context)
        let record = try await visibleSchedule(name, to: caller)
        guard record.source == .api else {
            throw APIError(
                .invalidState,
                "schedule \(name.debugDescription) is declared in the configuration file: remove it there and reload jobd (SIGHUP)"
            )
        }
        guard try await store.deleteSchedule(named: name) else { throw Self.notFound(name) }
        return try JSONBody.response(record)
    }

    /// `POST /v1/schedules/{name}/pause`: its slots pass without firing until resumed.
    @Sendable func pause(_ request: Request, context: Context) async throws -> Response {
        try await setPaused(true, context: context)
    }

    /// `POST /v1/schedules/{name}/resume`: fires again from the next slot (the slots
    /// that passed while paused are skipped).
    @Sendable func resume(_ request: Request, context: Context) async throws -> Response {
        try await setPaused(false, context: context)
    }

    private func setPaused(_ paused: Bool, context: Context) async throws -> Response {
        let caller = try context.requireCaller()
        let name = try name(context)
        _ = try await visibleSchedule(name, to: caller)
        guard let record = try await store.setSchedulePaused(named: name, paused: paused, now: Date()) else {
            throw Self.notFound(name)
        }
        return try JSONBody.response(record.withNextFireTimes(after: Date()))
    }

    /// The spec as stored: the zone and the missed policy made explicit (a schedule
    /// without a zone keeps the daemon's zone of the day it was declared).
    static func resolved(_ spec: ScheduleSpec) -> ScheduleSpec {
        var spec = spec
        if spec.timezone == nil { spec.timezone = TimeZone.current.identifier }
        if spec.missed == nil { spec.missed = .skip }
        return spec
    }

    private static func isVisible(_ record: ScheduleRecord, to caller: Caller) -> Bool {
        caller.isAdmin || (record.source == .api && record.ownerUID == caller.peer.uid)
    }

    private func visibleSchedule(_ name: String, to caller: Caller) async throws -> ScheduleRecord {
        guard let record = try await store.schedule(named: name), Self.isVisible(record, to: caller) else {
            throw Self.notFound(name)
        }
        return record
    }

    private func name(_ context: Context) throws -> String {
        let name = context.parameters.get("name") ?? ""
        guard ScheduleSpec.isValidName(name) else { throw Self.notFound(name) }
        return name
    }

    static func notFound(_ name: String) -> APIError {
        APIError(.scheduleNotFound, "no schedule is named \(name.debugDescription)")
    }
}
