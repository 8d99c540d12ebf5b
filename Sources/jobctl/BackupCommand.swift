import ArgumentParser
import Foundation
import JobctlOutput
import JobdClient
import JobdModel

/// `jobctl backup FILE`: a consistent copy of the running daemon's database.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the database, consistent as of one instant, while jobd runs.",
        discussion: """
            jobd copies its SQLite database with SQLite's online backup API (submits and \
            jobs go on meanwhile) and sends the copy; jobctl writes it to FILE.partial as \
            you, with mode 0600, fsyncs it and renames it to FILE, so FILE is whole or \
            untouched. The copy is a SQLite database that jobd starts on (jobd --database \
            FILE). Admins only (root, jobd's user, the admin group). On the PostgreSQL \
            engine, use pg_dump instead (error not_supported). Prints 'wrote N bytes to \
            FILE in T'. With --json, prints {"file","bytes","seconds"}.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The file to write; replaced atomically if it exists.", valueName: "file"))
    var file: String

    func validate() throws {
        guard !file.isEmpty, !file.hasSuffix("/") else {
            throw ValidationError("FILE must name a file, got '\(file)'.")
        }
    }

    func run() async throws {
        let report = try await global.withClient { client in try await client.backup(to: file) }
        if global.json {
            try Output.json(report)
        } else {
            Output.line(
                "wrote \(report.bytes) bytes (\(HumanFormat.bytes(Int(report.bytes)))) to \(report.file) "
                    + "in \(HumanFormat.seconds(report.seconds))")
        }
    }
}
