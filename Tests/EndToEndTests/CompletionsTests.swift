import Foundation
import Testing

/// `jobctl completions SHELL`, the discoverable way to argument-parser's completion scripts
/// (scripts/install.sh and the Debian package install its output).
@Suite struct CompletionsTests {
    @Test(
        "completions SHELL prints what the hidden --generate-completion-script SHELL prints",
        arguments: ["bash", "zsh", "fish"])
    func sameAsHiddenFlag(shell: String) async throws {
        let subcommand = try await run(Binaries.jobctl, ["completions", shell])
        let flag = try await run(Binaries.jobctl, ["--generate-completion-script", shell])
        #expect(subcommand.status == 0, "\(subcommand)")
        #expect(flag.status == 0, "\(flag)")
        #expect(!subcommand.stdout.isEmpty)
        #expect(subcommand.stdout == flag.stdout)
    }

    @Test("the bash script completes jobctl's subcommands, completions among them")
    func bashScriptNamesSubcommands() async throws {
        let output = try await run(Binaries.jobctl, ["completions", "bash"])
        #expect(output.status == 0, "\(output)")
        for subcommand in ["submit", "wait", "health", "completions"] {
            #expect(output.stdout.contains(subcommand), "no \(subcommand) in the bash script")
        }
        #expect(output.stdout.contains("complete -"), "no complete builtin call in the bash script")
    }

    @Test("jobctl --help lists completions, so the scripts are discoverable")
    func helpListsCompletions() async throws {
        let output = try await run(Binaries.jobctl, ["--help"])
        #expect(output.status == 0, "\(output)")
        #expect(output.stdout.contains("completions"), "\(output)")
    }

    @Test("an unknown shell is a usage error (exit 2) naming the known shells")
    func unknownShell() async throws {
        let output = try await run(Binaries.jobctl, ["completions", "tcsh"])
        #expect(output.status == 2, "\(output)")
        #expect(output.stderr.contains("bash"), "\(output)")
        #expect(output.stdout.isEmpty)
    }
}
