import ArgumentParser
import JobctlOutput
import JobdClient
import JobdModel

/// `jobctl nodes`: the nodes of a PostgreSQL cluster.
struct NodesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nodes",
        abstract: "List the jobd nodes sharing the PostgreSQL database.",
        discussion: """
            One line per node incarnation: name, id, version, workers, running jobs, lease \
            expiry, and whether it is alive and the leader. A restarted node is a new \
            incarnation; one whose lease ran out stays listed (dead) for an hour. On SQLite \
            there is one node and no list. With --json, prints the API's response.
            """
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let answer = try await global.withClient { client in try await client.nodes() }
        if global.json {
            try Output.json(answer)
        } else if answer.engine == "sqlite" {
            Output.line("jobd runs on SQLite: one node, no cluster (set database.url to share a PostgreSQL queue)")
        } else {
            Output.table(TextTable.nodes(answer.nodes))
        }
    }
}
