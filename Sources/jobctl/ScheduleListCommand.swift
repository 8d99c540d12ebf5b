import ArgumentParser
import JobctlOutput
import JobdClient
import JobdModel

/// `jobctl schedule list`: schedules with their next five fire times.
struct ScheduleListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List schedules with their next five fire times (your own unless you are an admin).",
        discussion: """
            Times are in each schedule's zone. LAST JOB is the job of the latest fired \
            slot. With --json, prints the API's answer.
            """
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let schedules = try await global.withClient { client in try await client.schedules() }
        if global.json {
            try Output.json(ScheduleList(schedules: schedules))
        } else {
            Output.table(TextTable.scheduleList(schedules))
        }
    }
}
