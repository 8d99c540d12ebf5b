import ArgumentParser
import JobctlOutput
import JobdClient
import JobdModel

/// `jobctl vacuum`: give the database's free space back.
struct VacuumCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vacuum",
        abstract: "Give the database's free space back to the file system.",
        discussion: """
            SQLite: rewrites the database without its free pages (VACUUM); every write \
            (submits, claims, finishes) waits until it is done (seconds for hundreds of MB), \
            and it needs free disk space for a second copy. Worth it after a large prune \
            (see the free size in jobctl stats). PostgreSQL: VACUUM (ANALYZE) on jobd's \
            tables, which autovacuum also does on its own. Admins only. Prints the size \
            before and after. With --json, prints the API's response.
            """
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let answer = try await global.withClient { client in try await client.vacuum() }
        if global.json {
            try Output.json(answer)
        } else {
            Output.line(
                "database \(HumanFormat.bytes(Int(answer.bytesBefore))) -> \(HumanFormat.bytes(Int(answer.bytesAfter)))"
                    + " (\(answer.bytesBefore) -> \(answer.bytesAfter) bytes) in \(HumanFormat.seconds(answer.seconds))"
            )
        }
    }
}
