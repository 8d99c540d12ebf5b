import ArgumentParser
import JobdClient
import JobdModel

/// `jobctl submit delay SECONDS`: submit a job that sleeps, then returns a value or fails.
struct SubmitDelayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delay",
        abstract: "Submit a job that sleeps, then returns a value (or fails).",
        discussion: """
            The result is --value: a JSON string prints without quotes, anything else as \
            compact JSON.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var options: SubmitOptions
    /// The parent's `--quiet`: ArgumentParser hands a flag written after the subcommand
    /// to the parent that declares it.
    @ParentCommand var submit: SubmitCommand

    @Argument(help: ArgumentHelp("How long to sleep (1.5, 500ms, 2m).", valueName: "seconds"))
    var seconds: SecondsArgument

    @Option(
        help: ArgumentHelp(
            "The value to return, as JSON: '\"Data 1\"' is the string Data 1, 42 a number, '{\"a\":1}' an object. Text that is not valid JSON is taken as a plain string. Default: null.",
            valueName: "json"
        )
    )
    var value: String?

    @Option(help: ArgumentHelp("Fail with this message (code job_failed) after sleeping.", valueName: "message"))
    var fail: String?

    func validate() throws {
        _ = try spec()
    }

    func run() async throws {
        try await options.submit(try spec(), global: global, quiet: submit.quiet)
    }

    private func spec() throws -> JobSpec {
        try options.spec(
            .delay(DelaySpec(seconds: seconds.seconds, value: value.map(ArgumentText.jsonValue), fail: fail)))
    }
}
