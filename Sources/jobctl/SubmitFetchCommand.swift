import ArgumentParser
import JobdClient
import JobdModel

/// `jobctl submit fetch URL`: submit an HTTP GET of a URL.
struct SubmitFetchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Submit a job that GETs a URL.",
        discussion: "The result is the response body (text, or the raw bytes when it is not UTF-8)."
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var options: SubmitOptions
    /// The parent's `--quiet`: ArgumentParser hands a flag written after the subcommand
    /// to the parent that declares it.
    @ParentCommand var submit: SubmitCommand

    @Argument(help: ArgumentHelp("The http:// or https:// URL to GET.", valueName: "url"))
    var url: String

    @Option(
        name: .customLong("header"),
        help: ArgumentHelp("An extra request header; repeatable.", valueName: "Name: value"))
    var headers: [String] = []

    func validate() throws {
        _ = try spec()
    }

    func run() async throws {
        try await options.submit(try spec(), global: global, quiet: submit.quiet)
    }

    private func spec() throws -> JobSpec {
        var parsed: [String: String] = [:]
        for header in headers {
            guard let (name, value) = ArgumentText.header(header) else {
                throw ValidationError("--header must look like 'Name: value', got '\(header)'.")
            }
            parsed[name] = value
        }
        return try options.spec(.fetch(FetchSpec(url: url, headers: parsed.isEmpty ? nil : parsed)))
    }
}
