import Foundation
import JobdModel

/// Parses a UTC ISO-8601 time such as `2027-03-28T01:00Z` or `2027-03-28T01:00:30Z`.
func cronUTC(_ text: String) -> Date {
    let withSeconds = text.count == 17 ? text.replacingOccurrences(of: "Z", with: ":00Z") : text
    guard let date = RFC3339.date(from: withSeconds) else { fatalError("bad test time \(text)") }
    return date
}

/// Formats a date as a UTC ISO-8601 time to the minute (seconds only when not zero).
func cronUTCText(_ date: Date) -> String {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "GMT")!
    let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
    let base = String(
        format: "%04d-%02d-%02dT%02d:%02d", parts.year!, parts.month!, parts.day!, parts.hour!, parts.minute!
    )
    return parts.second == 0 ? base + "Z" : base + String(format: ":%02dZ", parts.second!)
}

/// A time zone the tests name, which must exist.
func cronZone(_ name: String) -> TimeZone {
    guard let zone = TimeZone(identifier: name) else { fatalError("unknown test zone \(name)") }
    return zone
}
