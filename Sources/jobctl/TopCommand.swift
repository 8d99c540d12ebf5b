import ArgumentParser
import Foundation
import JobctlOutput
import JobdClient
import JobdModel
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// `jobctl top`: a full-screen live view of the daemon.
struct TopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top",
        abstract: "A full-screen live view: counts, throughput, running jobs, failures, hosts.",
        discussion: """
            Redrawn at most 4 times a second from jobd's event stream and its stats (the \
            job list is read once, at the start). Keys: q quit, p pause or resume \
            dispatching (admin), f cycle the filter (kind fetch, kind delay, state running, \
            state failed), Up and Down select a row, Enter shows the selected job (Esc or q \
            back). The terminal is restored on q, Ctrl-C, SIGTERM and SIGHUP. When stdout \
            or stdin is not a terminal, prints what `jobctl stats` prints and exits.
            """
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        guard isatty(STDOUT_FILENO) == 1, isatty(STDIN_FILENO) == 1 else {
            let stats = try await global.withClient { client in try await client.stats() }
            if global.json { try Output.json(stats) } else { Output.table(.stats(stats)) }
            return
        }
        let socketPath = try global.socketPath()
        try await global.withClient { client in
            let terminal = Terminal()
            try terminal.enter()
            defer { terminal.restore() }
            try await TopSession(client: client, terminal: terminal, socketPath: socketPath).run()
        }
    }
}
