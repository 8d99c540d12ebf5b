import ArgumentParser
import Foundation
import JobctlOutput
import JobdClient
import JobdModel

/// jobctl's exit codes and the mapping from errors to them.
///
/// 0 ok, 1 a job failed (or jobd answered with an API error), 2 usage, 69 jobd
/// unreachable (EX_UNAVAILABLE from sysexits.h), 77 no permission to use the socket
/// (EX_NOPERM).
enum ExitCodes {
    static let success: Int32 = 0
    static let failure: Int32 = 1
    static let usage: Int32 = 2
    static let unavailable: Int32 = 69
    static let noPermission: Int32 = 77

    /// Exits for an error thrown while parsing the command line.
    ///
    /// `--help` and `--version` exit 0 with their text on stdout; every other parse or
    /// validation error prints the usage message to stderr and exits 2.
    static func exit(forParseError error: any Error) -> Never {
        if Jobctl.exitCode(for: error) == .validationFailure {
            Output.error(Jobctl.fullMessage(for: error))
            Jobctl.exit(withError: ExitCode(usage))
        }
        Jobctl.exit(withError: error)
    }

    /// Exits for an error thrown by a command's `run()`, printing
    /// `error: <message> [<code>]` to stderr unless the command already reported it.
    static func exit(forRunError error: any Error) -> Never {
        switch error {
        case let error as ExitCode:
            Jobctl.exit(withError: error)
        case let error as CommandError:
            Output.error("error: \(error.message) [\(error.code)]")
            Jobctl.exit(withError: ExitCode(error.exitCode))
        case let error as ClientError:
            Output.error("error: \(error)")
            let code: Int32 =
                switch error.code {
                case .daemonUnreachable, .timeout: unavailable
                case .permissionDenied: noPermission
                default: failure
                }
            Jobctl.exit(withError: ExitCode(code))
        case let error as APIError:
            Output.error("error: \(error)")
            Jobctl.exit(withError: ExitCode(failure))
        case let error as QueueFullError:
            Output.error("error: \(error)")
            Jobctl.exit(withError: ExitCode(failure))
        default:
            let code = Jobctl.exitCode(for: error)
            if code == .validationFailure {
                Output.error(Jobctl.fullMessage(for: error))
                Jobctl.exit(withError: ExitCode(usage))
            }
            if code == .success {
                Jobctl.exit(withError: error)
            }
            Output.error("error: \(error) [internal]")
            Jobctl.exit(withError: ExitCode(failure))
        }
    }
}
