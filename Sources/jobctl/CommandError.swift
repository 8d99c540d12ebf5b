/// An error a command reports itself: printed as `error: <message> [<code>]` with its
/// own exit code.
///
/// Used for failures found at run time that are neither API nor connection errors,
/// such as an unreadable or invalid `--file` (exit 2) or an unfinished job (exit 1).
struct CommandError: Error {
    /// The explanation.
    var message: String
    /// The stable code printed in brackets.
    var code: String
    /// The process exit code.
    var exitCode: Int32

    /// A usage error: bad input found after parsing. Exits 2.
    static func usage(_ message: String, code: String = "usage") -> CommandError {
        CommandError(message: message, code: code, exitCode: ExitCodes.usage)
    }
}
