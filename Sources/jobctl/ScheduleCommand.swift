import ArgumentParser

/// `jobctl schedule add|list|rm|pause|resume`: cron, kept by the daemon.
struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Add, list, remove, pause and resume schedules (cron for jobs).",
        discussion: """
            Each slot of a schedule's cron expression, in its time zone, becomes one job \
            with the key schedule:NAME:SLOT, so a slot runs once across restarts (and \
            nodes). 'missed' says what happens to slots that passed while jobd was down: \
            skip (none), once (the latest), all (each, up to 100). Schedules can also be \
            declared in the configuration file (schedules:), and are then changed there.
            """,
        subcommands: [
            ScheduleAddCommand.self, ScheduleListCommand.self, ScheduleRemoveCommand.self,
            SchedulePauseCommand.self, ScheduleResumeCommand.self,
        ]
    )
}
