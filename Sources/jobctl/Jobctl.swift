import ArgumentParser
import JobdModel

/// The `jobctl` command: submits jobs to jobd, waits for them and shows their state.
///
/// `main()` is written out instead of inherited so that usage errors exit 2 (not
/// argument-parser's 64) and API and connection errors get jobd's exit codes.
@main
struct Jobctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobctl",
        abstract: "Submit jobs to jobd, wait for them and inspect them.",
        discussion: """
            jobctl talks to the jobd daemon over its Unix socket (--socket, $JOBD_SOCKET, \
            else your own daemon's socket if it exists, else the system daemon's \
            /run/jobd/jobd.sock).

            Errors print as 'error: <message> [<code>]' on stderr. Exit codes: 0 ok, \
            1 a job failed or jobd refused the request, 2 usage, 69 jobd unreachable, \
            77 no permission to use the socket, 130 Ctrl-C during a wait with a progress line.
            """,
        version: jobdVersion,
        subcommands: [
            SubmitCommand.self,
            ResultCommand.self,
            GatherCommand.self,
            BatchCommand.self,
            ScheduleCommand.self,
            StatusCommand.self,
            ListCommand.self,
            WaitCommand.self,
            WatchCommand.self,
            CancelCommand.self,
            RetryCommand.self,
            StatsCommand.self,
            TopCommand.self,
            DashboardCommand.self,
            HealthCommand.self,
            NodesCommand.self,
            WorkersCommand.self,
            PauseCommand.self,
            ResumeCommand.self,
            PruneCommand.self,
            BackupCommand.self,
            VacuumCommand.self,
            CompletionsCommand.self,
        ]
    )

    @OptionGroup var global: GlobalOptions

    static func main() async {
        var command: any ParsableCommand
        do {
            command = try await asyncParseAsRoot()
        } catch {
            ExitCodes.exit(forParseError: error)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            ExitCodes.exit(forRunError: error)
        }
    }
}
