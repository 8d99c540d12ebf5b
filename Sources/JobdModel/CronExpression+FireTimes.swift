import Foundation

/// Fire times: the instants a cron expression's matching wall-clock times stand for in a zone.
///
/// Each matching local time (year, month, day, hour, minute, second 0) maps to one instant:
/// - a time the zone shows once fires at that instant;
/// - a time it shows twice, when the clocks go back, fires once, at the first (earlier)
///   instant: in Europe/Berlin on 2027-10-31, `30 2 * * *` fires at 02:30 CEST (00:30 UTC)
///   and not again at 02:30 CET;
/// - a time it skips, when the clocks go forward, fires at the instant the gap ends: in
///   Europe/Berlin on 2027-03-28, `30 2 * * *` fires at 03:00 CEST (01:00 UTC). Several
///   skipped times map to that one instant and fire once.
///
/// So fire times strictly increase, and a daily schedule fires exactly once on the days the
/// clocks change.
extension CronExpression {
    /// How far the search looks before giving up: 400 years, one whole Gregorian cycle, after
    /// which the calendar (weekdays included) repeats, so a search that finds nothing in it
    /// would find nothing ever. Every expression that parses matches within about 40 years;
    /// the bound only ends searches near the edge of `Date`'s range.
    static let searchHorizonDays = 146_097

    /// The first fire time strictly after `date`.
    ///
    /// - Parameters:
    ///   - date: the instant to search after; a fire time equal to it is not returned.
    ///   - zone: the time zone whose wall clock the expression reads.
    /// - Returns: the fire time, or nil when there is none within 400 years (only near the
    ///   end of `Date`'s range) or `date` is not finite.
    public func nextFireTime(after date: Date, in zone: TimeZone) -> Date? {
        fireTimes(after: date, in: zone, count: 1).first
    }

    /// The first `count` fire times strictly after `date`, in increasing order.
    ///
    /// - Parameters:
    ///   - date: the instant to search after.
    ///   - zone: the time zone whose wall clock the expression reads.
    ///   - count: how many fire times to return; 0 or less returns none.
    /// - Returns: up to `count` strictly increasing fire times, fewer only when the search
    ///   horizon of 400 years ends first.
    public func fireTimes(after date: Date, in zone: TimeZone, count: Int) -> [Date] {
        guard count > 0, let after = Self.wholeSeconds(date) else { return [] }
        let clock = WallClock(zone: zone)
        // Instants map to wall times and back monotonically, so no wall time up to `after`'s
        // own can fire after `after`: start one minute past it.
        var local = Self.floorDivide(clock.localSeconds(at: after), 60) + 1
        let endDay = Self.floorDivide(local, Self.minutesPerDay) + Self.searchHorizonDays
        var fireTimes: [Date] = []
        var latest = after
        while fireTimes.count < count, let match = firstMatch(atOrAfter: local, beforeDay: endDay) {
            // Not every later wall time fires later: after the clocks went back, the repeated
            // hour's times map to their first occurrence, which may lie before `after`; and
            // skipped times share the instant their gap ends.
            let instant = clock.instant(forLocalSeconds: match * 60)
            if instant > latest {
                fireTimes.append(Date(timeIntervalSince1970: TimeInterval(instant)))
                latest = instant
            }
            local = match + 1
        }
        return fireTimes
    }

    /// The fire times in `(start, end]`, the latest `limit` of them, in increasing order.
    ///
    /// The daemon uses it to find the slots it missed while it was down, without walking
    /// every slot of a long outage: the search runs backwards from `end`.
    ///
    /// - Parameters:
    ///   - start: the exclusive lower bound (the last slot already handled).
    ///   - end: the inclusive upper bound (now).
    ///   - zone: the time zone whose wall clock the expression reads.
    ///   - limit: the most fire times to return; when more fall in the interval, the
    ///     earliest are dropped. 0 or less returns none.
    /// - Returns: strictly increasing fire times, empty when `end` is not after `start`.
    public func fireTimes(after start: Date, through end: Date, in zone: TimeZone, limit: Int) -> [Date] {
        guard limit > 0, let after = Self.wholeSeconds(start), let through = Self.wholeSeconds(end), through > after
        else { return [] }
        let clock = WallClock(zone: zone)
        let lowest = Self.floorDivide(clock.localSeconds(at: after), 60) + 1
        // The latest wall time shown at or before `through`: when the clocks went back within
        // the last day, the repeated hour ran later on the wall than `through`'s own time, and
        // its first occurrences may lie before `through`.
        let largestOffset = max(clock.offset(at: through), clock.offset(at: through - 86_400))
        var local = Self.floorDivide(through + largestOffset, 60)
        var instants: [Int] = []
        while instants.count < limit, let match = lastMatch(atOrBefore: local, notBefore: lowest) {
            let instant = clock.instant(forLocalSeconds: match * 60)
            if instant <= after {
                break
            }
            if instant <= through, instant < instants.last ?? .max {
                instants.append(instant)
            }
            local = match - 1
        }
        return instants.reversed().map { Date(timeIntervalSince1970: TimeInterval($0)) }
    }

    /// A date as whole seconds since 1970, rounded down; nil for dates too far out to walk.
    ///
    /// Rounding down keeps "strictly after" exact: fire times are whole seconds, and one is
    /// after `date` exactly when it is after `date` rounded down.
    private static func wholeSeconds(_ date: Date) -> Int? {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        // About ±300,000 years: far beyond any schedule, well inside Int and day arithmetic.
        guard seconds.isFinite, abs(seconds) < 1e13 else { return nil }
        return Int(seconds)
    }
}
