import ArgumentParser
import Foundation
import JobdClient
import JobdModel

/// `jobctl gather --file F`: submit a file of jobs as one batch, wait for all, print
/// their results in order.
struct GatherCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gather",
        abstract: "Submit jobs from an NDJSON file, wait for all, print their results in order.",
        discussion: """
            The file holds one job spec per line, as the API takes it, for example
            {"kind":"delay","seconds":1,"value":"Data 1"}
            {"kind":"fetch","url":"https://example.com/"}
            Blank lines are skipped. A bad line is reported with its number and nothing is \
            submitted (exit 2). The jobs are submitted in one batch (all or none) and run \
            concurrently. Each result prints on its own line in file order, as 'jobctl \
            result' prints it; a job that failed prints 'error: job N failed: <message> \
            [<code>]' in its place. Exits 1 if any job failed or was cancelled. With --json, \
            prints a JSON array of the finished records in file order.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: .shortAndLong, help: ArgumentHelp("The NDJSON file; - reads stdin.", valueName: "file"))
    var file: String

    func run() async throws {
        let specs = try readSpecs()
        let allSucceeded = try await global.withClient { client in
            let ids = try await client.submit(batch: specs)
            var records: [JobRecord] = []
            var allSucceeded = true
            // The jobs run concurrently in the daemon, so waiting for them one after the
            // other takes as long as the slowest, and lets results print in order as
            // soon as each one's predecessors are done.
            for id in ids {
                let record = try await client.wait(id)
                let rendering = ResultRenderer.render(record, asLine: true)
                allSucceeded = allSucceeded && rendering.isSuccess
                if global.json {
                    records.append(record)
                } else if let line = rendering.errorLine {
                    Output.line(line)
                } else {
                    Output.write(rendering.output)
                }
            }
            if global.json {
                try Output.json(records)
            }
            return allSucceeded
        }
        if !allSucceeded {
            throw ExitCode(ExitCodes.failure)
        }
    }

    /// Reads and parses the file, before anything is submitted.
    ///
    /// - Throws: `CommandError` (exit 2) when the file cannot be read, is not UTF-8,
    ///   holds a bad line or holds no job.
    private func readSpecs() throws -> [JobSpec] {
        let name = file == "-" ? "stdin" : file
        let data: Data
        do {
            if file == "-" {
                data = try FileHandle.standardInput.readToEnd() ?? Data()
            } else {
                data = try Data(contentsOf: URL(fileURLWithPath: file))
            }
        } catch {
            var reason = error.localizedDescription
            if file != "-" {
                var isDirectory: ObjCBool = false
                if !FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory) {
                    reason = "no such file"
                } else if isDirectory.boolValue {
                    reason = "it is a directory"
                } else if !FileManager.default.isReadableFile(atPath: file) {
                    reason = "permission denied"
                }
            }
            throw CommandError.usage("cannot read \(name): \(reason)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CommandError.usage("\(name) is not UTF-8 text")
        }
        let specs: [JobSpec]
        do {
            specs = try NDJSON.parseSpecs(text)
        } catch {
            throw CommandError.usage(
                "\(name): line \(error.line): \(error.error.message)", code: error.error.code.rawValue)
        }
        guard !specs.isEmpty else {
            throw CommandError.usage("\(name) holds no jobs")
        }
        return specs
    }
}
