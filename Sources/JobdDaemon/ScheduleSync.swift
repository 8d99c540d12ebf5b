import JobdStore
import Logging

/// Logs what a sync of the configuration file's schedules changed.
enum ScheduleSync {
    static func log(_ change: ConfiguredSchedulesChange, logger: Logger) {
        if !change.isEmpty {
            logger.notice(
                "configured schedules updated",
                metadata: [
                    "schedules.added": "\(change.added.joined(separator: ","))",
                    "schedules.changed": "\(change.changed.joined(separator: ","))",
                    "schedules.removed": "\(change.removed.joined(separator: ","))",
                ])
        }
        for name in change.conflicting {
            logger.error(
                "schedule \(name) of the configuration file is not used: a schedule of that name was declared through the API (jobctl schedule rm it, then reload)",
                metadata: ["schedule": "\(name)"])
        }
    }
}
