import ArgumentParser
import Foundation
import JobctlOutput
import JobdClient
import JobdModel

/// `jobctl schedule add NAME CRON (--fetch URL | --delay S [--value V] | --job JSON)`.
struct ScheduleAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a schedule, or replace your own of the same name.",
        discussion: """
            CRON is five fields (minute hour day-of-month month day-of-week; ranges, steps, \
            lists and names like MON-FRI or JAN) or @hourly, @daily, @weekly, @monthly, \
            @yearly. The job is --fetch URL, --delay SECONDS (with --value), or any spec as \
            --job JSON. Prints the schedule with its next five fire times. Replacing keeps \
            its progress: no slot fires twice.
            Example: jobctl schedule add nightly '30 2 * * *' --timezone Europe/Berlin --fetch https://example.com/report
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The schedule's name (A-Z a-z 0-9 _ . -).", valueName: "name"))
    var name: String

    @Argument(help: ArgumentHelp("The cron expression, quoted.", valueName: "cron"))
    var cron: String

    @Option(help: ArgumentHelp("The IANA time zone of the cron fields. Default: the daemon's.", valueName: "zone"))
    var timezone: String?

    @Option(help: ArgumentHelp("Slots missed while jobd was down: skip (default), once or all.", valueName: "policy"))
    var missed: String?

    @Option(help: ArgumentHelp("Each slot GETs this URL.", valueName: "url"))
    var fetch: String?

    @Option(help: ArgumentHelp("Each slot sleeps this long, then returns --value.", valueName: "seconds"))
    var delay: SecondsArgument?

    @Option(help: ArgumentHelp("The delay job's result.", valueName: "text"))
    var value: String?

    @Option(help: ArgumentHelp("The job spec of each slot, as JSON (as for POST /v1/jobs).", valueName: "json"))
    var job: String?

    func validate() throws {
        _ = try spec()
    }

    func run() async throws {
        let spec = try spec()
        let record = try await global.withClient { client in try await client.putSchedule(spec) }
        if global.json {
            try Output.json(record)
        } else {
            Output.table(TextTable.scheduleList([record]))
        }
    }

    private func spec() throws -> ScheduleSpec {
        let given = [fetch != nil, delay != nil, job != nil].count { $0 }
        guard given == 1 else {
            throw ValidationError("Give the job as exactly one of --fetch URL, --delay SECONDS or --job JSON.")
        }
        if value != nil && delay == nil { throw ValidationError("--value goes with --delay.") }
        var missedPolicy: MissedSlotPolicy?
        if let missed {
            guard let policy = MissedSlotPolicy(rawValue: missed) else {
                throw ValidationError("--missed must be skip, once or all, got '\(missed)'.")
            }
            missedPolicy = policy
        }
        let jobSpec: JobSpec
        if let fetch {
            jobSpec = JobSpec(.fetch(FetchSpec(url: fetch)))
        } else if let delay {
            jobSpec = JobSpec(.delay(DelaySpec(seconds: delay.seconds, value: value.map { .string($0) })))
        } else {
            do {
                jobSpec = try JSONCoding.makeDecoder().decode(JobSpec.self, from: Data((job ?? "").utf8))
            } catch {
                throw ValidationError("--job is not a job spec: \(error)")
            }
        }
        let spec = ScheduleSpec(name: name, cron: cron, timezone: timezone, job: jobSpec, missed: missedPolicy)
        do {
            try spec.validate()
        } catch {
            throw ValidationError("\(error.field.map { "\($0): " } ?? "")\(error.message)")
        }
        return spec
    }
}
