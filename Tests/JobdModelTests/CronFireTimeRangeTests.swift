import Foundation
import JobdModel
import Testing

/// `fireTimes(after:through:in:limit:)`, and every fire-time method against a brute-force
/// minute-by-minute reading of the DST rule.
@Suite struct CronFireTimeRangeTests {
    @Test("returns the slots in (after, through], the latest ones when over the limit")
    func latestSlots() throws {
        let expression = try CronExpression(parsing: "*/15 * * * *")
        let utcZone = cronZone("UTC")
        let after = cronUTC("2027-01-13T10:00Z")
        let through = cronUTC("2027-01-13T12:00Z")
        #expect(
            expression.fireTimes(after: after, through: through, in: utcZone, limit: 3).map(cronUTCText)
                == ["2027-01-13T11:30Z", "2027-01-13T11:45Z", "2027-01-13T12:00Z"]
        )
        #expect(
            expression.fireTimes(after: after, through: through, in: utcZone, limit: 100).map(cronUTCText)
                == [
                    "2027-01-13T10:15Z", "2027-01-13T10:30Z", "2027-01-13T10:45Z", "2027-01-13T11:00Z",
                    "2027-01-13T11:15Z", "2027-01-13T11:30Z", "2027-01-13T11:45Z", "2027-01-13T12:00Z",
                ]
        )
        #expect(
            expression.fireTimes(after: after, through: cronUTC("2027-01-13T10:15Z"), in: utcZone, limit: 5).map(
                cronUTCText)
                == ["2027-01-13T10:15Z"]
        )
        #expect(
            expression.fireTimes(after: after, through: cronUTC("2027-01-13T10:14:59Z"), in: utcZone, limit: 5).isEmpty)
        #expect(expression.fireTimes(after: after, through: after, in: utcZone, limit: 5).isEmpty)
        #expect(expression.fireTimes(after: through, through: after, in: utcZone, limit: 5).isEmpty)
        #expect(expression.fireTimes(after: after, through: through, in: utcZone, limit: 0).isEmpty)
    }

    @Test("a long outage costs only the slots returned")
    func longOutage() throws {
        let expression = try CronExpression(parsing: "* * * * *")
        let times = expression.fireTimes(
            after: cronUTC("2020-01-01T00:00Z"), through: cronUTC("2027-01-13T10:07:30Z"),
            in: cronZone("Europe/Berlin"), limit: 3
        )
        #expect(times.map(cronUTCText) == ["2027-01-13T10:05Z", "2027-01-13T10:06Z", "2027-01-13T10:07Z"])
        let yearly = try CronExpression(parsing: "0 0 29 2 *")
        let leapDays = yearly.fireTimes(
            after: cronUTC("2001-01-01T00:00Z"), through: cronUTC("2027-01-13T00:00Z"), in: cronZone("UTC"), limit: 2
        )
        #expect(leapDays.map(cronUTCText) == ["2020-02-29T00:00Z", "2024-02-29T00:00Z"])
    }

    @Test("a window ending inside the repeated hour holds that hour's first occurrences")
    func windowEndingInRepeatedHour() throws {
        let expression = try CronExpression(parsing: "30 * * * *")
        // 01:15 UTC is 02:15 CET, the second pass through 02:00-02:59 in Berlin; 02:30 CEST
        // (00:30 UTC) fired before it.
        let times = expression.fireTimes(
            after: cronUTC("2027-10-30T22:00Z"), through: cronUTC("2027-10-31T01:15Z"), in: cronZone("Europe/Berlin"),
            limit: 10
        )
        #expect(times.map(cronUTCText) == ["2027-10-30T22:30Z", "2027-10-30T23:30Z", "2027-10-31T00:30Z"])
    }

    @Test("skipped slots that share the end of a gap are one slot")
    func gapSlotsOnce() throws {
        let expression = try CronExpression(parsing: "*/15 2 * * *")
        let times = expression.fireTimes(
            after: cronUTC("2027-03-27T12:00Z"), through: cronUTC("2027-03-28T12:00Z"), in: cronZone("Europe/Berlin"),
            limit: 10
        )
        #expect(times.map(cronUTCText) == ["2027-03-28T01:00Z"])
    }

    /// Windows around each transition the tests use, and expressions that hit them.
    static let oracleWindows: [(zone: String, from: String)] = [
        ("Europe/Berlin", "2027-03-26T12:00Z"), ("Europe/Berlin", "2027-10-29T12:00Z"),
        ("America/New_York", "2027-03-12T12:00Z"), ("America/New_York", "2027-11-05T12:00Z"),
        ("Australia/Lord_Howe", "2027-04-02T00:00Z"), ("Australia/Lord_Howe", "2027-10-01T00:00Z"),
        ("Pacific/Apia", "2011-12-28T00:00Z"), ("UTC", "2027-02-26T00:00Z"),
    ]
    static let oracleExpressions = [
        "* * * * *", "*/7 * * * *", "30 2 * * *", "*/30 1-3 * * *", "0,15,45 0-4 * * *", "59 1 * * SUN",
        "0 12 * * *",
    ]

    @Test("every method agrees with a minute-by-minute reading of the rule", arguments: oracleWindows)
    func agreesWithBruteForce(zoneName: String, from: String) throws {
        let tz = cronZone(zoneName)
        let start = cronUTC(from)
        let end = start + 4 * 86_400
        for text in Self.oracleExpressions {
            let expression = try CronExpression(parsing: text)
            let expected = bruteForceFireTimes(of: expression, in: tz, after: start, through: end)
            var forward = expression.fireTimes(after: start, in: tz, count: expected.count + 1)
            #expect(forward.popLast().map { $0 > end } ?? false, "\(text)")
            #expect(firstDifference(forward, expected) == nil, "\(text) in \(zoneName)")
            let backward = expression.fireTimes(after: start, through: end, in: tz, limit: expected.count + 5)
            #expect(firstDifference(backward, expected) == nil, "\(text) in \(zoneName), backwards")
            var chained: [Date] = []
            var cursor = start
            while let next = expression.nextFireTime(after: cursor, in: tz), next <= end {
                chained.append(next)
                cursor = next
            }
            #expect(firstDifference(chained, expected) == nil, "\(text) in \(zoneName), one at a time")
        }
    }

    /// Where two lists of fire times first differ, short enough to read in a failure.
    private func firstDifference(_ actual: [Date], _ expected: [Date]) -> String? {
        guard actual != expected else { return nil }
        let index =
            zip(actual, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            ?? min(actual.count, expected.count)
        let got = index < actual.count ? cronUTCText(actual[index]) : "nothing"
        let wanted = index < expected.count ? cronUTCText(expected[index]) : "nothing"
        return "at \(index) of \(expected.count): got \(got), expected \(wanted)"
    }

    /// Fire times in `(after, through]` by checking every UTC second where something can
    /// happen (each minute, and each offset change), using only `secondsFromGMT(for:)` and a
    /// UTC calendar: an instant fires when its wall time matches and the zone never showed
    /// that wall time before; or when it ends a gap that skipped a matching wall time.
    private func bruteForceFireTimes(of expression: CronExpression, in tz: TimeZone, after: Date, through: Date)
        -> [Date]
    {
        var utcCalendar = Calendar(identifier: .gregorian)
        utcCalendar.timeZone = TimeZone(identifier: "GMT")!
        func offset(_ t: Int) -> Int { tz.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(t))) }
        func matches(wall: Int) -> Bool {
            guard wall % 60 == 0 else { return false }
            let parts = utcCalendar.dateComponents(
                [.month, .day, .hour, .minute, .weekday], from: Date(timeIntervalSince1970: TimeInterval(wall))
            )
            let dayOfMonth = expression.dayOfMonth.contains(parts.day!)
            let dayOfWeek = expression.dayOfWeek.contains(parts.weekday! - 1)
            let dayMatches =
                expression.dayOfMonth.isWildcard || expression.dayOfWeek.isWildcard
                ? dayOfMonth && dayOfWeek : dayOfMonth || dayOfWeek
            return dayMatches && expression.month.contains(parts.month!) && expression.hour.contains(parts.hour!)
                && expression.minute.contains(parts.minute!)
        }
        let first = Int(after.timeIntervalSince1970) + 1
        let last = Int(through.timeIntervalSince1970)
        // Every instant that can fire: whole minutes, and the instants offsets change at.
        var instants = Set(stride(from: first + (60 - first % 60) % 60, through: last, by: 60))
        var cursor = Date(timeIntervalSince1970: TimeInterval(first - 1))
        while let change = tz.nextDaylightSavingTimeTransition(after: cursor),
            change.timeIntervalSince1970 <= Double(last)
        {
            instants.insert(Int(change.timeIntervalSince1970))
            cursor = change
        }
        var fires: [Date] = []
        for t in instants.sorted() {
            let wall = t + offset(t)
            let before = t - 1 + offset(t - 1)
            // Shown before: an earlier instant, under the offset of up to a day ago, had this wall.
            let earlierOffset = offset(t - 86_400)
            let shownBefore = wall - earlierOffset < t && offset(wall - earlierOffset) == earlierOffset
            let firesHere = matches(wall: wall) && !shownBefore
            // A gap ends here when the wall clock jumped forward past some matching minute.
            var endsGap = false
            if wall > before + 1 {
                let firstSkippedMinute = (before / 60 + 1) * 60
                endsGap = stride(from: firstSkippedMinute, to: wall, by: 60).contains(where: matches)
            }
            if firesHere || endsGap {
                fires.append(Date(timeIntervalSince1970: TimeInterval(t)))
            }
        }
        return fires
    }
}
