import ArgumentParser
import Foundation
import JobctlOutput
import JobdClient
import JobdModel

/// The options `submit fetch` and `submit delay` share: the common job fields and `--wait`.
struct SubmitOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The time limit of each attempt (1.5, 500ms, 2m). Default: the daemon's.", valueName: "seconds"))
    var timeout: SecondsArgument?

    @Option(
        help: ArgumentHelp(
            "The total number of attempts (max_attempts), not the number of extra ones: 1 runs once, 3 runs at most three times. Default: the daemon's.",
            valueName: "n"
        )
    )
    var retries: Int?

    @Option(help: ArgumentHelp("Higher runs first. Default: 0.", valueName: "n"))
    var priority: Int?

    @Option(
        name: .customLong("in"),
        help: ArgumentHelp("Do not start before this long from now (30, 5m, 1h).", valueName: "seconds"))
    var runIn: SecondsArgument?

    @Option(help: ArgumentHelp("Do not start before this RFC 3339 time (2026-11-25T14:25:04Z).", valueName: "time"))
    var at: String?

    @Option(
        name: .customLong("on-interrupt"),
        help: ArgumentHelp(
            "When a crash or stop of jobd cuts an attempt short: retry (queue it again; the default) or fail (at most once).",
            valueName: "retry|fail"
        )
    )
    var onInterrupt: InterruptPolicyArgument?

    @Option(
        help: ArgumentHelp(
            "An idempotency key: a second submit with the same key returns the first job.", valueName: "key"))
    var key: String?

    @Option(
        name: .customLong("key-window"),
        help: ArgumentHelp(
            "With --key: the key may be used again this long after the first job with it was submitted (30, 5m, 1h). Default: never.",
            valueName: "seconds"))
    var keyWindow: SecondsArgument?

    @Option(
        help: ArgumentHelp(
            "A tag to find the job by (jobctl list --tag); repeat for several (at most 16). 1-64 characters of A-Z a-z 0-9 _ . : -.",
            valueName: "tag"))
    var tag: [String] = []

    @Option(
        help: ArgumentHelp(
            "Start only after this job has ended (repeat for several): the job waits until then.", valueName: "id"))
    var after: [JobIDArgument] = []

    @Option(
        name: .customLong("on-dependency-failure"),
        help: ArgumentHelp(
            "When a job it waits for fails or is cancelled: cancel (the default; dependency_failed) or run anyway.",
            valueName: "cancel|run"))
    var onDependencyFailure: String?

    @Flag(help: "Wait for the job, then print its result as 'jobctl result' does.")
    var wait = false

    func validate() throws {
        if runIn != nil, at != nil {
            throw ValidationError("--in and --at cannot be used together.")
        }
        if let at, RFC3339.date(from: at) == nil {
            throw ValidationError("--at must be an RFC 3339 time such as 2026-11-25T14:25:04Z, got '\(at)'.")
        }
        if let onDependencyFailure, DependencyFailurePolicy(rawValue: onDependencyFailure) == nil {
            throw ValidationError("--on-dependency-failure must be cancel or run, got '\(onDependencyFailure)'.")
        }
        if onDependencyFailure != nil, after.isEmpty {
            throw ValidationError("--on-dependency-failure needs --after.")
        }
    }

    /// The spec for a payload with these options, validated as the daemon would.
    ///
    /// - Throws: `ValidationError` naming the bad field (exit 2).
    func spec(_ payload: JobPayload) throws -> JobSpec {
        var runAt: Date?
        if let runIn {
            runAt = Date(timeIntervalSinceNow: runIn.seconds)
        } else if let at {
            runAt = RFC3339.date(from: at)
        }
        let spec = JobSpec(
            payload,
            timeout: timeout?.seconds,
            maxAttempts: retries,
            priority: priority,
            runAt: runAt,
            onInterrupt: onInterrupt?.policy,
            key: key,
            after: after.isEmpty ? nil : after.map { .job($0.id) },
            onDependencyFailure: onDependencyFailure.flatMap(DependencyFailurePolicy.init(rawValue:)),
            tags: tag.isEmpty ? nil : tag,
            keyWindow: keyWindow?.seconds
        )
        do throws(APIError) {
            try spec.validate()
        } catch {
            // `tags[2]` is the third --tag.
            let field = (error.field ?? "").split(separator: "[").first.map(String.init) ?? ""
            let option = Self.optionNames[field].map { "\($0): " } ?? ""
            throw ValidationError(option + error.message)
        }
        return spec
    }

    /// Submits the spec and prints the id, the record (`--json`) or, with `--wait`, the
    /// result; with `quiet` (`jobctl submit --quiet`, a flag of the parent command, which
    /// ArgumentParser gives the flag to wherever it is written), the id alone in every case.
    ///
    /// - Throws: `ExitCode(1)` when `--wait` finds the job failed or cancelled;
    ///   `APIError` and `ClientError` from the client; `ValidationError` for `--quiet`
    ///   with `--json`.
    func submit(_ spec: JobSpec, global: GlobalOptions, quiet: Bool) async throws {
        if quiet, global.json {
            throw ValidationError("--quiet and --json cannot be used together.")
        }
        let succeeded = try await global.withClient { client in
            let record = try await client.submit(spec)
            if quiet {
                Output.line(String(describing: record.id))
                guard wait else { return true }
                return try await client.wait(record.id).state == .succeeded
            }
            guard wait else {
                if global.json {
                    try Output.json(record)
                } else {
                    Output.line(String(describing: record.id))
                }
                return true
            }
            let finished = try await client.wait(record.id)
            return try Output.result(of: finished, json: global.json)
        }
        if !succeeded {
            throw ExitCode(ExitCodes.failure)
        }
    }

    /// The command-line option behind each spec field, for validation messages.
    private static let optionNames: [String: String] = [
        "timeout": "--timeout",
        "max_attempts": "--retries",
        "key": "--key",
        "headers": "--header",
        "on_interrupt": "--on-interrupt",
        "key_window": "--key-window",
        "tags": "--tag",
    ]
}
