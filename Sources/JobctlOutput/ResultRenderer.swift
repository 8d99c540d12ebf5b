import Foundation
import JobdModel

/// Turns a job's record into what `jobctl result` prints: the result alone on stdout,
/// and an error line when the job did not succeed.
///
/// A delay's value prints raw when it is a JSON string (`Data 1`, no quotes) and as
/// compact JSON otherwise (`{"a":1}`, `42`, `null`). A fetch's body prints as its text,
/// or as the decoded bytes when it was stored as base64.
public enum ResultRenderer {
    /// What to print for one job.
    public struct Rendering: Sendable, Hashable {
        /// The bytes for stdout: the result, possibly empty.
        public var output: Data
        /// The line for stderr (`error: job 7 failed: boom [job_failed]`), nil when the
        /// job succeeded.
        public var errorLine: String?

        /// Makes a rendering.
        ///
        /// - Parameters:
        ///   - output: The bytes for stdout.
        ///   - errorLine: The error line, nil for success.
        init(output: Data, errorLine: String?) {
            self.output = output
            self.errorLine = errorLine
        }

        /// True when the job succeeded (there is no error line).
        public var isSuccess: Bool { errorLine == nil }
    }

    /// Renders a job as `jobctl result` prints it.
    ///
    /// - `succeeded`: the result, no error line.
    /// - `failed`: the result when there is one (an `http_status` failure keeps the
    ///   response, so its body prints), and `error: job N failed: <message> [<code>]`.
    /// - `cancelled`: `error: job N was cancelled: <message> [cancelled]`.
    /// - `queued`/`running`: `error: job N is <state> [not_finished]`.
    ///
    /// - Parameters:
    ///   - record: The job.
    ///   - asLine: When true, the output always ends with exactly one added newline if
    ///     it had none (an empty result becomes an empty line), so that results of
    ///     several jobs stay one per line. When false, an empty result prints nothing.
    /// - Returns: The stdout bytes and the error line.
    public static func render(_ record: JobRecord, asLine: Bool = false) -> Rendering {
        let data = record.result.map { output(for: $0, asLine: asLine) } ?? Data()
        return Rendering(
            output: record.state == .succeeded ? data : failureOutput(record, data),
            errorLine: errorLine(for: record)
        )
    }

    /// The error line for a job that did not succeed, nil when it succeeded.
    ///
    /// - Parameter record: The job.
    /// - Returns: `error: job N failed: <message> [<code>]`, `error: job N was
    ///   cancelled…`, `error: job N is <state> [not_finished]`, or nil.
    public static func errorLine(for record: JobRecord) -> String? {
        switch record.state {
        case .succeeded:
            return nil
        case .failed:
            guard let error = record.error else {
                return "error: job \(record.id) failed: no error was recorded [internal]"
            }
            return "error: job \(record.id) failed: \(error.message) [\(error.code)]"
        case .cancelled:
            guard let error = record.error else {
                return "error: job \(record.id) was cancelled [cancelled]"
            }
            return "error: job \(record.id) was cancelled: \(error.message) [\(error.code)]"
        case .waiting, .queued, .running:
            return "error: job \(record.id) is \(record.state.rawValue) [not_finished]"
        }
    }

    /// The stdout bytes for a result.
    ///
    /// - Parameters:
    ///   - result: The job's result.
    ///   - asLine: See `render(_:asLine:)`. When false, text still gets a final
    ///     newline if it has none (so a shell prompt starts on its own line); an empty
    ///     fetch body and base64-decoded bytes are printed exactly.
    /// - Returns: The bytes.
    public static func output(for result: JobResult, asLine: Bool = false) -> Data {
        switch result {
        case .delay(let delay):
            return terminated(Data(text(for: delay.value).utf8), always: true)
        case .fetch(let fetch):
            switch fetch.bodyEncoding {
            case .utf8:
                let data = Data(fetch.body.utf8)
                return terminated(data, always: asLine)
            case .base64:
                let data = Data(base64Encoded: fetch.body, options: .ignoreUnknownCharacters) ?? Data(fetch.body.utf8)
                return asLine ? terminated(data, always: true) : data
            }
        }
    }

    /// A JSON value as text: a string raw (no quotes, no escapes), anything else as
    /// compact JSON with sorted keys.
    ///
    /// - Parameter value: The value.
    /// - Returns: `Data 1` for `"Data 1"`, `42` for `42`, `{"a":[1,2]}` for an object,
    ///   `null` for null.
    static func text(for value: JSONValue) -> String {
        if case .string(let string) = value {
            return string
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else {
            // Only a non-finite double fails to encode, and JSON cannot carry one.
            return "null"
        }
        return String(decoding: data, as: UTF8.self)
    }

    private static func failureOutput(_ record: JobRecord, _ output: Data) -> Data {
        // A failed fetch with http_status keeps the response: print its body like a
        // success would. Other failures (and unfinished jobs) may carry a stale result
        // from an earlier attempt, which must not pass for this job's answer.
        guard record.state == .failed, record.error?.code == .httpStatus else { return Data() }
        return output
    }

    /// `data` with a newline added when it has none; an empty `data` stays empty
    /// unless `always` is set.
    private static func terminated(_ data: Data, always: Bool) -> Data {
        if data.isEmpty { return always ? Data("\n".utf8) : data }
        if data.last == UInt8(ascii: "\n") { return data }
        return data + Data("\n".utf8)
    }
}
