/// Why a cron expression (or a schedule's time zone name) was rejected.
///
/// `field` names the part at fault so the server can point at it and jobctl can print it:
/// `"minute"`, `"hour"`, `"day of month"`, `"month"`, `"day of week"`, `"expression"` (the
/// text as a whole: the wrong number of fields, an unknown or unsupported macro) or
/// `"timezone"` (from ``CronExpression/timeZone(named:)``). `reason` is one human sentence
/// fragment that quotes the offending token and, where there is one, the allowed range.
///
/// `description` is `"<field>: <reason>"`, for example `hour: 24 is out of range 0-23`.
public struct CronError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The part of the expression at fault, such as `"hour"` or `"expression"`.
    public var field: String
    /// What is wrong, naming the bad token, such as `24 is out of range 0-23`.
    public var reason: String

    /// Creates an error for `field` with a human `reason`.
    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { "\(field): \(reason)" }
}
