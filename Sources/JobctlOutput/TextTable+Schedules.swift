import Foundation
import JobdModel

extension TextTable {
    /// The table `jobctl schedule list` prints: `NAME  CRON  TIMEZONE  MISSED  STATE  LAST
    /// JOB  NEXT`, with each schedule's next five fire times in NEXT, one per line, in the
    /// schedule's own zone.
    ///
    /// - Parameter schedules: The schedules, in the order given.
    /// - Returns: The table, with its header even when there are none.
    public static func scheduleList(_ schedules: [ScheduleRecord]) -> TextTable {
        var rows: [[String]] = []
        for schedule in schedules {
            let zone = schedule.spec.timezone.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!
            let next = schedule.next.map { Self.zoned($0, in: zone) }
            let state = schedule.paused ? "paused" : "active"
            let source = schedule.source == .config ? " (config)" : ""
            rows.append([
                schedule.name + source, schedule.spec.cron, schedule.spec.timezone ?? "",
                (schedule.spec.missed ?? .skip).rawValue, state,
                schedule.lastJobID.map { String(describing: $0) } ?? "-", next.first ?? "-",
            ])
            for time in next.dropFirst() { rows.append(["", "", "", "", "", "", time]) }
        }
        return TextTable(header: ["NAME", "CRON", "TIMEZONE", "MISSED", "STATE", "LAST JOB", "NEXT"], rows: rows)
    }

    /// A fire time as people read it in the schedule's zone, with the zone's offset (the
    /// zone names Foundation gives on Linux are `GMT+1`, not `CET`): `2026-12-08 02:30 +01:00`.
    static func zoned(_ date: Date, in zone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        let offset = zone.secondsFromGMT(for: date)
        let sign = offset < 0 ? "-" : "+"
        return String(
            format: "%04d-%02d-%02d %02d:%02d %@%02d:%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0,
            parts.hour ?? 0, parts.minute ?? 0, sign, abs(offset) / 3600, abs(offset) % 3600 / 60)
    }
}
