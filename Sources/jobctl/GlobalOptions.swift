import ArgumentParser
import Foundation
import JobdClient
import JobdModel

/// The options every subcommand takes: where the daemon is and how to print.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The daemon's socket, a path or a unix:// URL. Default: $JOBD_SOCKET, else "
                + SocketLocator().candidates.joined(separator: " if it exists, else ") + ".",
            valueName: "path"
        )
    )
    var socket: String?

    @Flag(name: .long, help: "Print the API's JSON (pretty-printed, sorted keys) instead of text.")
    var json = false

    /// The socket to use: `--socket`, else `$JOBD_SOCKET`, else the user's own socket if it
    /// exists, else the system daemon's (see `SocketLocator`).
    func socketPath() throws -> String {
        let explicit = [socket, ProcessInfo.processInfo.environment["JOBD_SOCKET"]].compactMap { $0 }
            .first { !$0.isEmpty }
        do {
            return try SocketLocator().resolve(explicit: explicit)
        } catch let error as ClientError {
            throw CommandError.usage(error.message, code: error.code.rawValue)
        }
    }

    /// The socket `jobd` uses for this user when not configured.
    static var defaultSocketPath: String {
        DefaultPaths(uid: getuid(), environment: ProcessInfo.processInfo.environment).socket
    }

    /// Runs `body` with a client for the socket; the client's connections close on return.
    func withClient<Result>(_ body: (JobdClient) async throws -> Result) async throws -> Result {
        let path = try socketPath()
        do {
            return try await JobdClient.withClient(socketPath: path, body)
        } catch let error as ClientError where error.code == .daemonUnreachable {
            // Without an explicit socket both defaults were tried: say so.
            let locator = SocketLocator()
            guard socket?.isEmpty ?? true, ProcessInfo.processInfo.environment["JOBD_SOCKET"]?.isEmpty ?? true,
                path != locator.systemSocket, locator.probe(locator.systemSocket) == .missing
            else { throw error }
            var told = error
            told.message += " (no system daemon either: \(locator.systemSocket) does not exist)"
            throw told
        }
    }
}
