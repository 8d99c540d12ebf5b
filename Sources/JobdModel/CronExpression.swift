import Foundation

/// A five-field cron schedule, parsed and checked, as cron(5) (Vixie cron) reads it.
///
/// The text is `minute hour day-of-month month day-of-week`, fields separated by spaces or
/// tabs, each written as ``CronField`` describes (`*`, `5`, `1-5`, `*/15`, `1-30/10`, `5/15`,
/// lists like `1,5,10-12`, and `JAN`…`DEC`, `SUN`…`SAT` names, also in ranges). Instead of the
/// five fields the text may be one macro: `@yearly` or `@annually` (`0 0 1 1 *`), `@monthly`
/// (`0 0 1 * *`), `@weekly` (`0 0 * * 0`), `@daily` or `@midnight` (`0 0 * * *`) and `@hourly`
/// (`0 * * * *`); macros are case-insensitive.
///
/// A time matches when its minute, hour and month match and its day matches. The day rule is
/// Vixie cron's: when both day of month and day of week are restricted (neither field's text
/// starts with `*`), a day matches if *either* matches (`0 0 1,15 * 3` fires on the 1st, the
/// 15th and every Wednesday); otherwise both must match (`0 0 */2 * MON` fires on odd-numbered
/// days that are Mondays).
///
/// Fire times are computed in a time zone by
/// ``nextFireTime(after:in:)`` and the `fireTimes` methods, which say how daylight saving
/// time is handled.
public struct CronExpression: Hashable, Sendable, CustomStringConvertible {
    /// The text the expression was parsed from, without surrounding whitespace.
    public let text: String
    /// The minutes of the hour that match, 0-59.
    public let minute: CronField
    /// The hours of the day that match, 0-23.
    public let hour: CronField
    /// The days of the month that match, 1-31.
    public let dayOfMonth: CronField
    /// The months that match, 1-12.
    public let month: CronField
    /// The days of the week that match, 0-6 with 0 for Sunday.
    public let dayOfWeek: CronField

    /// The macros cron(5) defines, and the five fields each one stands for.
    static let macros: [String: String] = [
        "@yearly": "0 0 1 1 *",
        "@annually": "0 0 1 1 *",
        "@monthly": "0 0 1 * *",
        "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *",
        "@midnight": "0 0 * * *",
        "@hourly": "0 * * * *",
    ]

    /// Parses and checks a cron expression.
    ///
    /// - Parameter text: five fields or a macro; leading and trailing whitespace is ignored.
    /// - Throws: ``CronError`` whose `field` names the part at fault: `"expression"` for empty
    ///   text, a number of fields other than five, `@reboot` (jobd schedules are times, not
    ///   events) or an unknown macro; the field's name for a bad item in it; and
    ///   `"day of month"` for an expression that can never fire, such as `0 0 30 2 *`.
    public init(parsing text: String) throws(CronError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        self.text = trimmed
        let fields = try Self.fieldTexts(of: trimmed)
        minute = try CronField(parsing: fields[0], as: .minute)
        hour = try CronField(parsing: fields[1], as: .hour)
        dayOfMonth = try CronField(parsing: fields[2], as: .dayOfMonth)
        month = try CronField(parsing: fields[3], as: .month)
        dayOfWeek = try CronField(parsing: fields[4], as: .dayOfWeek)
        try checkDaysOccur(dayOfMonthText: fields[2], monthText: fields[3])
    }

    public var description: String { text }

    /// The five field texts of `text`, expanding a macro.
    private static func fieldTexts(of text: String) throws(CronError) -> [Substring] {
        func failure(_ reason: String) -> CronError { CronError(field: "expression", reason: reason) }
        guard !text.isEmpty else {
            throw failure("is empty; expected 5 fields (minute hour day-of-month month day-of-week) or a macro")
        }
        let fieldText: String
        if text.hasPrefix("@") {
            let name = text.lowercased()
            if name == "@reboot" {
                throw failure("@reboot is not supported: a schedule fires at times, not when jobd starts")
            }
            if name.contains(where: { $0 == " " || $0 == "\t" }) {
                throw failure("a macro stands alone, without fields: \"\(text)\"")
            }
            guard let expansion = macros[name] else {
                throw failure(
                    "unknown macro \"\(text)\" (known: @yearly, @annually, @monthly, @weekly, @daily, "
                        + "@midnight, @hourly)"
                )
            }
            fieldText = expansion
        } else {
            fieldText = text
        }
        let fields = fieldText.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard fields.count == 5 else {
            throw failure(
                "expected 5 fields (minute hour day-of-month month day-of-week), found \(fields.count) in \"\(text)\""
            )
        }
        return fields
    }

    /// Rejects a day of month that no matching month has, when the day of week cannot make up
    /// for it: `0 0 30 2 *` or `0 0 31 4,6 *` never fire. February 29 counts (leap years).
    private func checkDaysOccur(dayOfMonthText: Substring, monthText: Substring) throws(CronError) {
        // A day of month starting with `*` always holds day 1; a restricted day of week with a
        // restricted day of month is the OR rule, and every weekday occurs in every month.
        guard !dayOfMonth.isWildcard, dayOfWeek.isWildcard else { return }
        let longestMonth = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        let occurs = month.values.contains { month in
            dayOfMonth.first(atLeast: 1).map { $0 <= longestMonth[month] } ?? false
        }
        guard !occurs else { return }
        throw CronError(
            field: "day of month",
            reason: "\(dayOfMonthText) never occurs in month \(monthText), so the expression never fires"
        )
    }

    /// Whether the local day matches: month, then the day rule of cron(5) (see the type).
    ///
    /// - Parameters:
    ///   - weekday: 0 for Sunday through 6 for Saturday.
    func matchesDay(month: Int, day: Int, weekday: Int) -> Bool {
        guard self.month.contains(month) else { return false }
        if dayOfMonth.isWildcard || dayOfWeek.isWildcard {
            return dayOfMonth.contains(day) && dayOfWeek.contains(weekday)
        }
        return dayOfMonth.contains(day) || dayOfWeek.contains(weekday)
    }
}
