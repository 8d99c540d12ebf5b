import Foundation
import JobdModel

/// What one look at a schedule decides: the slots to fire now, how far its `last_slot`
/// moves, and when to look again. A pure function of the schedule and three instants, so
/// the missed-slot rules are tested without a clock.
struct SchedulePlan: Equatable {
    /// The slots to fire now, oldest first.
    var fire: [Date] = []
    /// The new `last_slot` (the latest slot dealt with, fired or skipped); nil: unchanged.
    var advanceTo: Date?
    /// The next slot after now; nil when paused or when it never fires again.
    var next: Date?

    /// Plans `record` at `now`.
    ///
    /// A slot is *missed* when it passed before `activeSince - grace`: the node started
    /// (or took over firing) after it, so nothing could fire it in time. Missed slots follow
    /// the schedule's `missed` policy; every later slot up to `now` fires (a loop that
    /// wakes late does not lose its slot). `grace` covers a handover between nodes, where
    /// slots pass for at most about a lease before the new leader looks.
    ///
    /// - Parameters:
    ///   - record: The schedule as stored.
    ///   - cron: Its parsed expression; `zone` its zone.
    ///   - now: The time of the look.
    ///   - activeSince: When this node began firing schedules.
    ///   - grace: How long before `activeSince` a slot still counts as on time.
    static func plan(
        _ record: ScheduleRecord, cron: CronExpression, zone: TimeZone, now: Date, activeSince: Date,
        grace: TimeInterval
    ) -> SchedulePlan {
        guard !record.paused else { return SchedulePlan() }
        let last = record.lastSlot ?? record.createdAt
        var plan = SchedulePlan()
        var dealtUpTo = last
        let boundary = min(now, activeSince.addingTimeInterval(-grace))
        if last < boundary {
            let policy = record.spec.missed ?? .skip
            let limit = policy == .all ? ScheduleSpec.maxMissedSlots : 1
            let missed = cron.fireTimes(after: last, through: boundary, in: zone, limit: limit)
            if let latest = missed.last {
                switch policy {
                case .skip: break
                case .once: plan.fire = [latest]
                case .all: plan.fire = missed
                }
                dealtUpTo = latest
            }
            dealtUpTo = max(dealtUpTo, boundary)
        }
        if dealtUpTo < now {
            let due = cron.fireTimes(after: dealtUpTo, through: now, in: zone, limit: ScheduleSpec.maxMissedSlots)
            plan.fire += due
        }
        let latest = max(plan.fire.last ?? last, dealtUpTo)
        if latest > last { plan.advanceTo = latest }
        plan.next = cron.nextFireTime(after: max(now, plan.advanceTo ?? last), in: zone)
        return plan
    }
}
