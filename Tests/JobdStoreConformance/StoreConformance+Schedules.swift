import Foundation
import JobdModel
import JobdStore
import Synchronization
import Testing

/// The schedule cases of the conformance suite (issue 13): a schedule's row, its owner's
/// hold on the name, its progress (`last_slot`) that only moves forward, and the
/// configuration file's schedules made exactly the file's.
extension StoreConformance {
    static let scheduleCases: [ConformanceCase] = [
        ConformanceCase(
            name: "putSchedule creates, replaces its owner's keeping progress, refuses another owner's name",
            run: schedulePut),
        ConformanceCase(
            name: "last_slot only moves forward; a resume skips the slots that passed while paused",
            run: scheduleProgress),
        ConformanceCase(
            name: "the configured schedules become exactly the file's; an API schedule of that name stays",
            run: scheduleSync),
        ConformanceCase(name: "schedule changes reach the change feed; a refused put does not", run: scheduleFeed),
    ]

    static func scheduleSpec(_ name: String, cron: String = "*/5 * * * *", value: Int64 = 0) -> ScheduleSpec {
        ScheduleSpec(
            name: name, cron: cron, timezone: "UTC", job: JobSpec(.delay(DelaySpec(seconds: 0, value: .int(value)))),
            missed: .skip)
    }

    static func schedulePut(_ store: any JobStore) async throws {
        let created = try await store.putSchedule(
            NewSchedule(spec: scheduleSpec("nightly"), source: .api, ownerUID: 1000), now: t0)
        guard case .created(let record) = created else {
            Issue.record("expected created, got \(created)")
            return
        }
        #expect(record.spec == scheduleSpec("nightly"))
        #expect(record.lastSlot == t0 && record.createdAt == t0 && record.ownerUID == 1000 && !record.paused)
        try await store.advanceSchedule(named: "nightly", to: t0 + 600, lastJobID: JobID(7), now: t0 + 601)
        let replaced = try await store.putSchedule(
            NewSchedule(spec: scheduleSpec("nightly", cron: "0 * * * *"), source: .api, ownerUID: 1000), now: t0 + 700)
        guard case .replaced(let again) = replaced else {
            Issue.record("expected replaced, got \(replaced)")
            return
        }
        #expect(again.spec.cron == "0 * * * *" && again.lastSlot == t0 + 600 && again.lastJobID == JobID(7))
        #expect(again.createdAt == t0 && again.updatedAt == t0 + 700)
        for intruder in [
            NewSchedule(spec: scheduleSpec("nightly"), source: .api, ownerUID: 1001),
            NewSchedule(spec: scheduleSpec("nightly"), source: .api, ownerUID: nil),
            NewSchedule(spec: scheduleSpec("nightly"), source: .config, ownerUID: nil),
        ] {
            let outcome = try await store.putSchedule(intruder, now: t0 + 800)
            guard case .taken(let holder) = outcome else {
                Issue.record("expected taken for \(intruder), got \(outcome)")
                continue
            }
            #expect(holder.ownerUID == 1000 && holder.spec.cron == "0 * * * *")
        }
        _ = try await store.putSchedule(NewSchedule(spec: scheduleSpec("a-first"), source: .api, ownerUID: 5), now: t0)
        #expect(try await store.schedules().map(\.name) == ["a-first", "nightly"])
        #expect(try await store.schedule(named: "missing") == nil)
        #expect(try await store.deleteSchedule(named: "a-first"))
        #expect(try await !store.deleteSchedule(named: "a-first"))
        #expect(try await store.schedules().map(\.name) == ["nightly"])
    }

    static func scheduleProgress(_ store: any JobStore) async throws {
        _ = try await store.putSchedule(NewSchedule(spec: scheduleSpec("s"), source: .api, ownerUID: nil), now: t0)
        try await store.advanceSchedule(named: "s", to: t0 + 300, lastJobID: JobID(1), now: t0 + 300)
        // A late writer (another node, a slow round) never moves it back.
        try await store.advanceSchedule(named: "s", to: t0 + 120, lastJobID: JobID(9), now: t0 + 301)
        var record = try #require(try await store.schedule(named: "s"))
        #expect(record.lastSlot == t0 + 300 && record.lastJobID == JobID(1))
        // A skip moves the slot without naming a job.
        try await store.advanceSchedule(named: "s", to: t0 + 600, lastJobID: nil, now: t0 + 600)
        record = try #require(try await store.schedule(named: "s"))
        #expect(record.lastSlot == t0 + 600 && record.lastJobID == JobID(1))
        let paused = try #require(try await store.setSchedulePaused(named: "s", paused: true, now: t0 + 700))
        #expect(paused.paused && paused.lastSlot == t0 + 600)
        // Pausing again changes nothing; the resume skips what passed while paused.
        _ = try await store.setSchedulePaused(named: "s", paused: true, now: t0 + 800)
        let resumed = try #require(try await store.setSchedulePaused(named: "s", paused: false, now: t0 + 3000))
        #expect(!resumed.paused && resumed.lastSlot == t0 + 3000)
        // Resuming one that runs moves nothing.
        let again = try #require(try await store.setSchedulePaused(named: "s", paused: false, now: t0 + 4000))
        #expect(again.lastSlot == t0 + 3000)
        #expect(try await store.setSchedulePaused(named: "nope", paused: true, now: t0) == nil)
    }

    static func scheduleSync(_ store: any JobStore) async throws {
        _ = try await store.putSchedule(NewSchedule(spec: scheduleSpec("mine"), source: .api, ownerUID: 1000), now: t0)
        var change = try await store.syncConfiguredSchedules([scheduleSpec("a"), scheduleSpec("b")], now: t0)
        #expect(change.added.sorted() == ["a", "b"] && change.changed.isEmpty && change.removed.isEmpty)
        try await store.advanceSchedule(named: "a", to: t0 + 300, lastJobID: JobID(3), now: t0 + 300)
        _ = try await store.setSchedulePaused(named: "a", paused: true, now: t0 + 301)
        // Unchanged: nothing to do.
        change = try await store.syncConfiguredSchedules([scheduleSpec("a"), scheduleSpec("b")], now: t0 + 400)
        #expect(change.isEmpty && change.conflicting.isEmpty)
        // a changed (its progress and pause kept), b gone, c new, mine taken by the API.
        change = try await store.syncConfiguredSchedules(
            [scheduleSpec("a", cron: "@hourly"), scheduleSpec("c"), scheduleSpec("mine")], now: t0 + 500)
        #expect(change.added == ["c"] && change.changed == ["a"] && change.removed == ["b"])
        #expect(change.conflicting == ["mine"])
        let a = try #require(try await store.schedule(named: "a"))
        #expect(a.spec.cron == "@hourly" && a.lastSlot == t0 + 300 && a.paused && a.source == .config)
        #expect(a.ownerUID == nil)
        let mine = try #require(try await store.schedule(named: "mine"))
        #expect(mine.source == .api && mine.ownerUID == 1000)
        // An empty file removes every configured schedule, never an API one.
        change = try await store.syncConfiguredSchedules([], now: t0 + 600)
        #expect(change.removed.sorted() == ["a", "c"])
        #expect(try await store.schedules().map(\.name) == ["mine"])
    }

    static func scheduleFeed(_ store: any JobStore) async throws {
        let seen = Mutex(0)
        store.subscribe { change in
            if case .schedulesChanged = change { seen.withLock { $0 += 1 } }
        }
        _ = try await store.putSchedule(NewSchedule(spec: scheduleSpec("s"), source: .api, ownerUID: 1), now: t0)
        _ = try await store.putSchedule(NewSchedule(spec: scheduleSpec("s"), source: .api, ownerUID: 2), now: t0)
        _ = try await store.setSchedulePaused(named: "s", paused: true, now: t0)
        _ = try await store.deleteSchedule(named: "s")
        _ = try await store.deleteSchedule(named: "s")
        _ = try await store.syncConfiguredSchedules([scheduleSpec("c")], now: t0)
        // put, pause, delete, sync: four; the refused put and the second delete: none.
        #expect(seen.withLock { $0 } == 4)
    }
}
