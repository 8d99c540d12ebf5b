import ArgumentParser

/// `jobctl submit`: the parent of `submit fetch` and `submit delay`.
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit a job and print its id.",
        discussion: """
            Prints the new job's id alone on stdout, so 'id=$(jobctl submit delay 1)' works; \
            with --json, the stored record. With --wait, waits for the job and prints its \
            result as 'jobctl result' does.
            """,
        subcommands: [SubmitFetchCommand.self, SubmitDelayCommand.self]
    )
}
