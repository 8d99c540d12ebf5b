import Foundation
import JobdModel
import Testing

@testable import JobdRuntime

/// The missed-slot rules, without a clock: a `*/10 * * * *` schedule (slots at :00, :10,
/// …), whose node stopped after the 12:00 slot and started again at 12:35.
@Suite struct SchedulePlanTests {
    static let utc = TimeZone(identifier: "UTC")!
    /// 2027-01-04 12:00:00 UTC.
    static let noon = Date(timeIntervalSince1970: 1_799_064_000)
    static let cron = try! CronExpression(parsing: "*/10 * * * *")

    static func minutes(_ m: Double) -> Date { noon.addingTimeInterval(m * 60) }

    static func record(_ missed: MissedSlotPolicy, lastSlot: Date? = noon, paused: Bool = false) -> ScheduleRecord {
        ScheduleRecord(
            spec: ScheduleSpec(
                name: "s", cron: "*/10 * * * *", timezone: "UTC", job: JobSpec(.delay(DelaySpec(seconds: 0))),
                missed: missed),
            source: .api, paused: paused, ownerUID: nil, createdAt: noon.addingTimeInterval(-3600),
            updatedAt: noon, lastSlot: lastSlot, lastJobID: nil)
    }

    static func plan(_ record: ScheduleRecord, now: Date, activeSince: Date, grace: TimeInterval = 0) -> SchedulePlan {
        SchedulePlan.plan(record, cron: cron, zone: utc, now: now, activeSince: activeSince, grace: grace)
    }

    @Test(
        "after three missed slots: skip fires none, once the latest, all three; the next slot is timed",
        arguments: [
            (MissedSlotPolicy.skip, [Double]()), (.once, [30]), (.all, [10, 20, 30]),
        ])
    func missed(_ policy: MissedSlotPolicy, fired: [Double]) {
        let started = Self.minutes(35)
        let plan = Self.plan(Self.record(policy), now: started, activeSince: started)
        #expect(plan.fire == fired.map(Self.minutes))
        #expect(plan.advanceTo == started)
        #expect(plan.next == Self.minutes(40))
    }

    @Test("a slot that passes while the node runs fires, even when the look comes late")
    func onTime() {
        let plan = Self.plan(Self.record(.skip), now: Self.minutes(10.02), activeSince: Self.minutes(-30))
        #expect(plan.fire == [Self.minutes(10)])
        #expect(plan.advanceTo == Self.minutes(10))
        #expect(plan.next == Self.minutes(20))
        // Two slots late (a stalled loop): both fire; they were not missed while down.
        let stalled = Self.plan(Self.record(.skip), now: Self.minutes(21), activeSince: Self.minutes(-30))
        #expect(stalled.fire == [Self.minutes(10), Self.minutes(20)])
    }

    @Test("nothing due: nothing fires, nothing moves")
    func idle() {
        let plan = Self.plan(Self.record(.all), now: Self.minutes(5), activeSince: Self.minutes(-30))
        #expect(plan.fire.isEmpty && plan.advanceTo == nil && plan.next == Self.minutes(10))
    }

    @Test("a handover: slots within the grace before the new leader began fire as on time")
    func grace() {
        // The old leader died after 12:00; the new one began at 12:10:20 with a 30 s grace:
        // the 12:10 slot is on time even under skip.
        let began = Self.minutes(10 + 20.0 / 60)
        let plan = Self.plan(Self.record(.skip), now: began, activeSince: began, grace: 30)
        #expect(plan.fire == [Self.minutes(10)])
        // Without the grace it counts as missed.
        #expect(Self.plan(Self.record(.skip), now: began, activeSince: began).fire.isEmpty)
    }

    @Test("all fires at most the latest 100 missed slots")
    func cap() {
        let started = Self.minutes(10 * 250 + 5)
        let plan = Self.plan(Self.record(.all), now: started, activeSince: started)
        #expect(plan.fire.count == ScheduleSpec.maxMissedSlots)
        #expect(plan.fire.last == Self.minutes(10 * 250))
        #expect(plan.advanceTo == started)
    }

    @Test("a paused schedule plans nothing")
    func paused() {
        let plan = Self.plan(Self.record(.all, paused: true), now: Self.minutes(35), activeSince: Self.minutes(35))
        #expect(plan == SchedulePlan())
    }

    @Test("a new schedule (no last slot) starts from its creation")
    func fresh() {
        var record = Self.record(.all, lastSlot: nil)
        record.createdAt = Self.minutes(5)
        let plan = Self.plan(record, now: Self.minutes(11), activeSince: Self.minutes(0))
        #expect(plan.fire == [Self.minutes(10)])
    }
}
