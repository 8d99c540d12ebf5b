import ArgumentParser

/// `jobctl completions SHELL`: print the shell completion script for jobctl.
///
/// argument-parser already answers `--generate-completion-script SHELL`, but hides the
/// flag from `--help`; this subcommand makes the same script discoverable. Both print
/// byte-for-byte the same text.
struct CompletionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "completions",
        abstract: "Print the shell completion script for jobctl (bash, zsh or fish).",
        discussion: """
            The Debian package and scripts/install.sh install the scripts already. By hand, \
            for every user:
              jobctl completions bash > /usr/local/share/bash-completion/completions/jobctl
              jobctl completions zsh > /usr/local/share/zsh/site-functions/_jobctl
              jobctl completions fish > /usr/local/share/fish/vendor_completions.d/jobctl.fish
            or for the current bash session only: source <(jobctl completions bash)
            """
    )

    @Argument(help: "The shell: bash, zsh or fish.")
    var shell: ShellArgument

    func run() {
        // The root command's script: completions start at `jobctl`, not at this subcommand.
        // With the newline the hidden flag's output ends in, so the two are the same bytes.
        print(Jobctl.completionScript(for: shell.shell))
    }
}
