import ArgumentParser
import Foundation
import JobctlOutput
import JobdClient
import JobdModel

/// `jobctl dashboard`: serve jobd's web dashboard to this user's browser.
struct DashboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "Open the web dashboard: print a URL on 127.0.0.1 that shows what you may see.",
        discussion: """
            Asks jobd for a dashboard token bound to your uid, listens on 127.0.0.1 (a free \
            port, or --port) and forwards each connection to jobd's socket, then prints \
            http://127.0.0.1:PORT/ui/?token=TOKEN. The first visit trades the token for a \
            cookie (the token works once); the page then shows exactly what your uid may \
            see over the socket. The token and the cookie stop working as soon as this \
            command ends (Ctrl-C, a signal, or jobd stopping: exit 69). Read-only: the \
            dashboard cannot submit, cancel or pause anything.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("The loopback port to listen on; 0 picks a free one.", valueName: "port"))
    var port: Int = 0

    func validate() throws {
        guard (0...65535).contains(port) else {
            throw ValidationError("--port must be from 0 to 65535, got \(port)")
        }
    }

    func run() async throws {
        let global = global
        let port = port
        let socketPath = try global.socketPath()
        _ = try await Interrupt.catching {
            try await global.withClient { client in
                try await client.withDashboardSession { session in
                    let forwarder = LoopbackForwarder(socketPath: socketPath, port: port)
                    try await forwarder.run { bound in
                        let url = "http://127.0.0.1:\(bound)\(APIRoutes.dashboard)?token=\(session.token)"
                        if global.json {
                            try Output.json(DashboardURL(url: url, port: bound, uid: session.uid))
                        } else {
                            Output.line(url)
                            Output.error(
                                "jobd dashboard for uid \(session.uid): open the URL above; it works while this runs (Ctrl-C ends it)"
                            )
                        }
                    }
                }
            }
        }
    }

    /// `--json` output.
    struct DashboardURL: Encodable {
        var url: String
        var port: Int
        var uid: UInt32
    }
}
