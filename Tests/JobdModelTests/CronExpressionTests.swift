import Foundation
import JobdModel
import Testing

@Suite struct CronExpressionTests {
    /// Field texts and the values cron(5) says they stand for.
    static let fieldValues: [(expression: String, field: String, values: [Int])] = [
        ("* * * * *", "minute", Array(0...59)),
        ("* * * * *", "day of month", Array(1...31)),
        ("* * * * *", "day of week", Array(0...6)),
        ("1,5,10-12 * * * *", "minute", [1, 5, 10, 11, 12]),
        ("*/15 * * * *", "minute", [0, 15, 30, 45]),
        ("5/20 * * * *", "minute", [5, 25, 45]),
        ("10-40/10 * * * *", "minute", [10, 20, 30, 40]),
        ("0 9-17/2 * * *", "hour", [9, 11, 13, 15, 17]),
        ("0 20/2 * * *", "hour", [20, 22]),
        ("0 0 */10 * *", "day of month", [1, 11, 21, 31]),
        ("0 0 * jan,Mar,DEC *", "month", [1, 3, 12]),
        ("0 0 * feb-Apr *", "month", [2, 3, 4]),
        ("0 0 * JAN/4 *", "month", [1, 5, 9]),
        ("0 0 * * MON-FRI", "day of week", [1, 2, 3, 4, 5]),
        ("0 0 * * sun", "day of week", [0]),
        ("0 0 * * 7", "day of week", [0]),
        ("0 0 * * 0,7", "day of week", [0]),
        ("0 0 * * 5-7", "day of week", [0, 5, 6]),
        ("0 0 * * FRI-7", "day of week", [0, 5, 6]),
        ("0 0 * * */2", "day of week", [0, 2, 4, 6]),
        ("0 0 * * 1-5,SAT", "day of week", [1, 2, 3, 4, 5, 6]),
        ("07 007 * * *", "hour", [7]),
    ]

    @Test("each field form expands to the values cron(5) gives it", arguments: fieldValues)
    func fieldForms(expression: String, field: String, values: [Int]) throws {
        let parsed = try CronExpression(parsing: expression)
        let fields = [
            "minute": parsed.minute, "hour": parsed.hour, "day of month": parsed.dayOfMonth, "month": parsed.month,
            "day of week": parsed.dayOfWeek,
        ]
        #expect(fields[field]?.values == values, "\(expression)")
    }

    @Test("the text is kept trimmed, and fields may be separated by tabs and runs of spaces")
    func textAndWhitespace() throws {
        let parsed = try CronExpression(parsing: "  0\t9   * *\tMON-FRI \n")
        #expect(parsed.text == "0\t9   * *\tMON-FRI")
        #expect(parsed.description == parsed.text)
        #expect(parsed.minute.values == [0])
        #expect(parsed.hour.values == [9])
        #expect(parsed.dayOfWeek.values == [1, 2, 3, 4, 5])
    }

    @Test(
        "each macro has the fields cron(5) gives it",
        arguments: [
            ("@yearly", "0 0 1 1 *"), ("@annually", "0 0 1 1 *"), ("@monthly", "0 0 1 * *"), ("@weekly", "0 0 * * 0"),
            ("@daily", "0 0 * * *"), ("@midnight", "0 0 * * *"), ("@hourly", "0 * * * *"), ("@DAILY", "0 0 * * *"),
        ]
    )
    func macros(macro: String, fields: String) throws {
        let parsed = try CronExpression(parsing: macro)
        let expanded = try CronExpression(parsing: fields)
        #expect(parsed.text == macro)
        #expect(parsed.minute == expanded.minute)
        #expect(parsed.hour == expanded.hour)
        #expect(parsed.dayOfMonth == expanded.dayOfMonth)
        #expect(parsed.month == expanded.month)
        #expect(parsed.dayOfWeek == expanded.dayOfWeek)
    }

    @Test("a field is a wildcard when its text starts with *")
    func wildcards() throws {
        let parsed = try CronExpression(parsing: "* */2 1-31 * 0-7")
        #expect(parsed.minute.isWildcard)
        #expect(parsed.hour.isWildcard)
        // All days, but written as a range: restricted, as Vixie cron's DOM_STAR sees it.
        #expect(!parsed.dayOfMonth.isWildcard)
        #expect(parsed.month.isWildcard)
        #expect(!parsed.dayOfWeek.isWildcard)
    }

    @Test(
        "expressions that fire only in some years, or only through the day-of-week OR rule, are valid",
        arguments: ["0 0 29 2 *", "0 0 31 1,4 *", "0 0 30 2 1", "0 0 31 2,4 MON", "0 0 */31 2 *", "0 0 29 2 */7"]
    )
    func rareButValid(expression: String) {
        #expect(throws: Never.self) { try CronExpression(parsing: expression) }
    }

    /// Bad expressions, the field at fault, and a piece of text the reason must contain.
    static let errors: [(expression: String, field: String, mentions: String)] = [
        ("", "expression", "empty"),
        ("   ", "expression", "empty"),
        ("* * * *", "expression", "found 4"),
        ("* * * * * *", "expression", "found 6"),
        ("0 0 * * * /usr/bin/backup", "expression", "found 6"),
        ("@reboot", "expression", "@reboot"),
        ("@fortnightly", "expression", "@fortnightly"),
        ("@daily 5", "expression", "@daily 5"),
        ("60 * * * *", "minute", "60 is out of range 0-59"),
        ("99999999999999999999 * * * *", "minute", "99999999999999999999 is out of range 0-59"),
        ("0 24 * * *", "hour", "24 is out of range 0-23"),
        ("0 0 0 * *", "day of month", "0 is out of range 1-31"),
        ("0 0 32 * *", "day of month", "32 is out of range 1-31"),
        ("0 0 * 13 *", "month", "13 is out of range 1-12"),
        ("0 0 * * 8", "day of week", "8 is out of range 0-7"),
        ("*/0 * * * *", "minute", "step 0"),
        ("*/60 * * * *", "minute", "step 60"),
        ("0 0 */32 * *", "day of month", "step 32"),
        ("*/x * * * *", "minute", "\"x\""),
        ("1/ * * * *", "minute", "1/"),
        ("5-1 * * * *", "minute", "5-1"),
        ("0 0 * * MON-SUN", "day of week", "MON-SUN"),
        ("1-2-3 * * * *", "minute", "1-2-3"),
        ("-5 * * * *", "minute", "-5"),
        ("1,,2 * * * *", "minute", "1,,2"),
        ("0 0 * * 1,", "day of week", "1,"),
        ("abc * * * *", "minute", "\"abc\""),
        ("0 JAN * * *", "hour", "\"JAN\""),
        ("0 0 * JAN-FOO *", "month", "\"FOO\""),
        ("0 0 * January *", "month", "\"January\""),
        ("0 0 1/2/3 * *", "day of month", "1/2/3"),
        ("0 0 30 2 *", "day of month", "never"),
        ("0 0 31 4,6,9,11 *", "day of month", "31"),
        ("0 0 31 2 */7", "day of month", "never"),
    ]

    @Test("a bad expression names the field at fault and the bad token", arguments: errors)
    func rejects(expression: String, field: String, mentions: String) {
        let error = #expect(throws: CronError.self) { try CronExpression(parsing: expression) }
        #expect(error?.field == field, "\(expression)")
        #expect(error?.reason.contains(mentions) == true, "\(expression): \(error?.reason ?? "")")
    }

    @Test("an error describes itself as field: reason")
    func errorDescription() {
        let error = #expect(throws: CronError.self) { try CronExpression(parsing: "0 24 * * *") }
        #expect(error?.description == "hour: 24 is out of range 0-23")
        #expect(error == CronError(field: "hour", reason: "24 is out of range 0-23"))
    }

    @Test(
        "time zone names resolve when they are IANA names",
        arguments: ["UTC", "GMT", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"]
    )
    func acceptsZones(name: String) throws {
        let zone = try CronExpression.timeZone(named: name)
        #expect(zone == TimeZone(identifier: name))
    }

    @Test(
        "IANA names missing from Foundation's list on Linux resolve through the system tzdata",
        .enabled(if: FileManager.default.fileExists(atPath: "/usr/share/zoneinfo/Asia/Kolkata")),
        arguments: ["Asia/Kolkata", "Etc/UTC", "Etc/GMT-14", "CET", "US/Eastern"]
    )
    func acceptsZonesFromSystemTzdata(name: String) throws {
        let zone = try CronExpression.timeZone(named: name)
        #expect(zone == TimeZone(identifier: name))
    }

    @Test(
        "other time zone names are rejected, naming the name",
        arguments: [
            "", "Foo/Bar", "utc", "europe/berlin", " Europe/Berlin", "IST", "BST", "CEST", "GMT+1", "UTC+2",
            "GMT+0100", "SystemV/AST4", "Factory", "Europe/../UTC", "../../etc/passwd", "posix/Europe/Berlin",
        ]
    )
    func rejectsZones(name: String) {
        let error = #expect(throws: CronError.self) { try CronExpression.timeZone(named: name) }
        #expect(error?.field == "timezone")
        #expect(error?.reason.contains("\"\(name)\"") == true)
    }
}
