import ArgumentParser

/// A shell argument: one of the shells argument-parser writes completion scripts for.
struct ShellArgument: ExpressibleByArgument {
    var shell: CompletionShell

    init?(argument: String) {
        guard let shell = CompletionShell(rawValue: argument.lowercased()) else { return nil }
        self.shell = shell
    }

    static var allValueStrings: [String] { CompletionShell.allCases.map(\.rawValue) }
}
