import Foundation
import JobdModel
import Testing

/// Fire times written by hand from cron(5)'s rules and jobd's DST rule, as UTC times.
///
/// DST transitions used (checked against `zdump -v`, tzdata 2025b):
/// - Europe/Berlin 2027-03-28 01:00 UTC: 02:00 CET becomes 03:00 CEST (02:00-02:59 skipped).
/// - Europe/Berlin 2027-10-31 01:00 UTC: 03:00 CEST becomes 02:00 CET (02:00-02:59 twice).
/// - America/New_York 2027-03-14 07:00 UTC: 02:00 EST becomes 03:00 EDT.
/// - America/New_York 2027-11-07 06:00 UTC: 02:00 EDT becomes 01:00 EST (01:00-01:59 twice).
/// - Pacific/Apia 2011-12-30 10:00 UTC: 2011-12-29 24:00 (-10) becomes 2011-12-31 00:00 (+14);
///   Samoa skipped December 30.
@Suite struct CronFireTimeTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let expression: String
        let zone: String
        let after: String
        let expected: [String]

        init(_ expression: String, in zone: String = "UTC", after: String, _ expected: [String]) {
            self.expression = expression
            self.zone = zone
            self.after = after
            self.expected = expected
        }

        var testDescription: String { "\(expression) in \(zone) after \(after)" }
    }

    /// 2027-01-13 is a Wednesday; `after` is 10:07:30 UTC on it unless a row says otherwise.
    static let wednesday = "2027-01-13T10:07:30Z"

    static let cases: [Case] = [
        Case("* * * * *", after: wednesday, ["2027-01-13T10:08Z", "2027-01-13T10:09Z", "2027-01-13T10:10Z"]),
        Case(
            "*/15 * * * *", after: wednesday,
            ["2027-01-13T10:15Z", "2027-01-13T10:30Z", "2027-01-13T10:45Z", "2027-01-13T11:00Z"]
        ),
        Case(
            "0 9-17/2 * * MON-FRI", after: wednesday,
            ["2027-01-13T11:00Z", "2027-01-13T13:00Z", "2027-01-13T15:00Z", "2027-01-13T17:00Z", "2027-01-14T09:00Z"]
        ),
        Case("5 4 * * sun", after: wednesday, ["2027-01-17T04:05Z", "2027-01-24T04:05Z"]),
        Case("0 12 * * 7", after: wednesday, ["2027-01-17T12:00Z", "2027-01-24T12:00Z"]),
        // Both day fields restricted: the 1st, the 15th, and every Wednesday.
        Case(
            "0 0 1,15 * 3", after: wednesday,
            ["2027-01-15T00:00Z", "2027-01-20T00:00Z", "2027-01-27T00:00Z", "2027-02-01T00:00Z", "2027-02-03T00:00Z"]
        ),
        // Day of month starts with *: days 1, 11, 21, 31 that are also Mondays.
        Case("0 0 */10 * 1", after: wednesday, ["2027-02-01T00:00Z", "2027-03-01T00:00Z", "2027-05-31T00:00Z"]),
        Case("0 0 29 2 *", after: "2026-12-07T00:00Z", ["2028-02-29T00:00Z", "2032-02-29T00:00Z"]),
        // February 29 or any Monday in February.
        Case(
            "0 0 29 2 1", after: "2027-02-20T00:00Z",
            [
                "2027-02-22T00:00Z", "2028-02-07T00:00Z", "2028-02-14T00:00Z", "2028-02-21T00:00Z", "2028-02-28T00:00Z",
                "2028-02-29T00:00Z",
            ]
        ),
        // February 29 that is a Sunday (AND rule): 2100 is no leap year, so the next is 40 years on.
        Case("0 0 29 2 */7", after: "2088-03-01T00:00Z", ["2128-02-29T00:00Z"]),
        Case("0 0 29 2 *", after: "2096-03-01T00:00Z", ["2104-02-29T00:00Z"]),
        Case("0 0 31 * *", after: wednesday, ["2027-01-31T00:00Z", "2027-03-31T00:00Z", "2027-05-31T00:00Z"]),
        Case("@yearly", after: wednesday, ["2028-01-01T00:00Z", "2029-01-01T00:00Z"]),
        Case("@annually", after: wednesday, ["2028-01-01T00:00Z"]),
        Case("@monthly", after: wednesday, ["2027-02-01T00:00Z", "2027-03-01T00:00Z"]),
        Case("@weekly", after: wednesday, ["2027-01-17T00:00Z", "2027-01-24T00:00Z"]),
        Case("@daily", after: wednesday, ["2027-01-14T00:00Z", "2027-01-15T00:00Z"]),
        Case("@midnight", after: wednesday, ["2027-01-14T00:00Z"]),
        Case("@hourly", after: wednesday, ["2027-01-13T11:00Z", "2027-01-13T12:00Z"]),
        Case(
            "15 8 * feb-Apr Tue-Thu", after: wednesday,
            ["2027-02-02T08:15Z", "2027-02-03T08:15Z", "2027-02-04T08:15Z", "2027-02-09T08:15Z"]
        ),
        Case("5/20 * * * *", after: wednesday, ["2027-01-13T10:25Z", "2027-01-13T10:45Z", "2027-01-13T11:05Z"]),
        Case("0 20/2 * * *", after: wednesday, ["2027-01-13T20:00Z", "2027-01-13T22:00Z", "2027-01-14T20:00Z"]),
        Case(
            "0,30 8-9 * * *", after: wednesday,
            ["2027-01-14T08:00Z", "2027-01-14T08:30Z", "2027-01-14T09:00Z", "2027-01-14T09:30Z", "2027-01-15T08:00Z"]
        ),
        // A fire time equal to `after` is not after it.
        Case("0 * * * *", after: "2027-01-13T10:00Z", ["2027-01-13T11:00Z"]),
        Case("0 * * * *", after: "2027-01-13T09:59:59Z", ["2027-01-13T10:00Z"]),
        Case("0 0 1 1 *", after: "1960-03-01T00:00Z", ["1961-01-01T00:00Z", "1962-01-01T00:00Z"]),
        Case("0 9 * * MON-FRI", in: "America/New_York", after: wednesday, ["2027-01-13T14:00Z", "2027-01-14T14:00Z"]),
        Case("0 0 * * *", in: "Asia/Kolkata", after: wednesday, ["2027-01-13T18:30Z", "2027-01-14T18:30Z"]),

        // Europe/Berlin, spring forward on 2027-03-28: 02:30 does not exist and fires at 03:00 CEST.
        Case(
            "30 2 * * *", in: "Europe/Berlin", after: "2027-03-26T12:00Z",
            ["2027-03-27T01:30Z", "2027-03-28T01:00Z", "2027-03-29T00:30Z"]
        ),
        // All four skipped slots fire once, at the end of the gap.
        Case(
            "*/15 2 * * *", in: "Europe/Berlin", after: "2027-03-27T12:00Z",
            ["2027-03-28T01:00Z", "2027-03-29T00:00Z", "2027-03-29T00:15Z"]
        ),
        Case(
            "30 * * * *", in: "Europe/Berlin", after: "2027-03-27T23:00Z",
            ["2027-03-27T23:30Z", "2027-03-28T00:30Z", "2027-03-28T01:00Z", "2027-03-28T01:30Z", "2027-03-28T02:30Z"]
        ),
        // Europe/Berlin, fall back on 2027-10-31: 02:30 happens twice and fires at the first, CEST.
        Case(
            "30 2 * * *", in: "Europe/Berlin", after: "2027-10-29T12:00Z",
            ["2027-10-30T00:30Z", "2027-10-31T00:30Z", "2027-11-01T01:30Z"]
        ),
        Case(
            "30 * * * *", in: "Europe/Berlin", after: "2027-10-30T22:00Z",
            ["2027-10-30T22:30Z", "2027-10-30T23:30Z", "2027-10-31T00:30Z", "2027-10-31T02:30Z", "2027-10-31T03:30Z"]
        ),
        // Starting inside the second 02:00-02:59: that night's 02:30 already fired.
        Case("30 2 * * *", in: "Europe/Berlin", after: "2027-10-31T01:15Z", ["2027-11-01T01:30Z"]),
        Case("30 2 * * *", in: "Europe/Berlin", after: "2027-10-31T00:45Z", ["2027-11-01T01:30Z"]),
        Case("30 2 * * *", in: "Europe/Berlin", after: "2027-10-31T00:15Z", ["2027-10-31T00:30Z"]),

        // America/New_York, spring forward on 2027-03-14: 02:30 fires at 03:00 EDT.
        Case(
            "30 2 * * *", in: "America/New_York", after: "2027-03-13T00:00Z",
            ["2027-03-13T07:30Z", "2027-03-14T07:00Z", "2027-03-15T06:30Z"]
        ),
        // 02:00 and 02:30 are skipped and 03:00 EDT is the end of the gap: one fire for all three.
        Case(
            "*/30 1-3 * * *", in: "America/New_York", after: "2027-03-14T05:00Z",
            ["2027-03-14T06:00Z", "2027-03-14T06:30Z", "2027-03-14T07:00Z", "2027-03-14T07:30Z", "2027-03-15T05:00Z"]
        ),
        // America/New_York, fall back on 2027-11-07: 02:30 happens once (EST); 01:30 twice.
        Case(
            "30 2 * * *", in: "America/New_York", after: "2027-11-05T12:00Z",
            ["2027-11-06T06:30Z", "2027-11-07T07:30Z", "2027-11-08T07:30Z"]
        ),
        Case(
            "30 1 * * *", in: "America/New_York", after: "2027-11-05T12:00Z",
            ["2027-11-06T05:30Z", "2027-11-07T05:30Z", "2027-11-08T06:30Z"]
        ),
        Case(
            "*/30 1-3 * * *", in: "America/New_York", after: "2027-11-07T04:00Z",
            [
                "2027-11-07T05:00Z", "2027-11-07T05:30Z", "2027-11-07T07:00Z", "2027-11-07T07:30Z", "2027-11-07T08:00Z",
                "2027-11-07T08:30Z", "2027-11-08T06:00Z",
            ]
        ),
        // Samoa skipped a whole day: its noon fires when the gap ends, at midnight on the 31st.
        Case(
            "0 12 * * *", in: "Pacific/Apia", after: "2011-12-29T00:00Z",
            ["2011-12-29T22:00Z", "2011-12-30T10:00Z", "2011-12-30T22:00Z"]
        ),
    ]

    @Test("fire times match the hand-computed table", arguments: cases)
    func table(_ row: Case) throws {
        let expression = try CronExpression(parsing: row.expression)
        let times = expression.fireTimes(after: cronUTC(row.after), in: cronZone(row.zone), count: row.expected.count)
        #expect(times.map(cronUTCText) == row.expected)
        let next = expression.nextFireTime(after: cronUTC(row.after), in: cronZone(row.zone))
        #expect(next.map(cronUTCText) == row.expected.first)
    }

    @Test(
        "a daily 02:30 fires exactly once on each day the clocks change",
        arguments: [
            ("Europe/Berlin", "2027-03-28"), ("Europe/Berlin", "2027-10-31"), ("America/New_York", "2027-03-14"),
            ("America/New_York", "2027-11-07"),
        ])
    func onceOnTransitionDays(zoneName: String, day: String) throws {
        let expression = try CronExpression(parsing: "30 2 * * *")
        let tz = cronZone(zoneName)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = tz
        let times = expression.fireTimes(after: cronUTC("2027-01-01T00:00Z"), in: tz, count: 400)
        let onDay = times.filter { date in
            let parts = calendar.dateComponents([.year, .month, .day], from: date)
            return String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!) == day
        }
        #expect(onDay.count == 1)
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 < $1 })
    }

    @Test("no count, or no finite start, gives no fire times")
    func degenerate() throws {
        let expression = try CronExpression(parsing: "* * * * *")
        let utcZone = cronZone("UTC")
        #expect(expression.fireTimes(after: cronUTC(Self.wednesday), in: utcZone, count: 0).isEmpty)
        #expect(expression.fireTimes(after: cronUTC(Self.wednesday), in: utcZone, count: -1).isEmpty)
        #expect(expression.nextFireTime(after: Date(timeIntervalSince1970: .infinity), in: utcZone) == nil)
        #expect(expression.nextFireTime(after: Date(timeIntervalSince1970: .nan), in: utcZone) == nil)
    }

    @Test("a far-away February 29 on a weekday is found without walking minutes")
    func rareExpressionsAreCheap() throws {
        let expression = try CronExpression(parsing: "0 0 29 2 */7")
        let start = ContinuousClock.now
        for _ in 0..<100 {
            #expect(expression.nextFireTime(after: cronUTC("2088-03-01T00:00Z"), in: cronZone("Europe/Berlin")) != nil)
        }
        // 100 searches across 40 years; a minute-by-minute walk would take minutes.
        #expect(ContinuousClock.now - start < .seconds(5))
    }
}
