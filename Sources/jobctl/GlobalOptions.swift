import ArgumentParser
import Foundation
import JobdClient
import JobdModel

/// The options every subcommand takes: where the daemon is and how to print.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The daemon's socket. Default: $JOBD_SOCKET, else \(GlobalOptions.defaultSocketPath).",
            valueName: "path"
        )
    )
    var socket: String?

    @Flag(name: .long, help: "Print the API's JSON (pretty-printed, sorted keys) instead of text.")
    var json = false

    /// The socket to use: `--socket`, else `$JOBD_SOCKET`, else the default for this user.
    var socketPath: String {
        if let socket, !socket.isEmpty { return socket }
        if let socket = ProcessInfo.processInfo.environment["JOBD_SOCKET"], !socket.isEmpty { return socket }
        return Self.defaultSocketPath
    }

    /// The socket `jobd` uses for this user when not configured.
    static var defaultSocketPath: String {
        DefaultPaths(uid: getuid(), environment: ProcessInfo.processInfo.environment).socket
    }

    /// Runs `body` with a client for the socket; the client's connections close on return.
    func withClient<Result>(_ body: (JobdClient) async throws -> Result) async throws -> Result {
        try await JobdClient.withClient(socketPath: socketPath, body)
    }
}
