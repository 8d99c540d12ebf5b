import ArgumentParser

/// `jobctl schedule resume NAME`.
struct ScheduleResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Resume a schedule from its next slot (slots that passed while paused are skipped)."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The schedule's name.", valueName: "name"))
    var name: String

    func run() async throws {
        try await SchedulePauseCommand.set(name, paused: false, global: global)
    }
}
