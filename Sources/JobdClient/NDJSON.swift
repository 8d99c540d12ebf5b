import Foundation
import JobdModel

/// Parsing of newline-delimited JSON job files (`jobctl gather --file`).
public enum NDJSON {
    /// A line of an NDJSON job file that is not a valid job spec.
    public struct LineError: Error, Hashable, Sendable, CustomStringConvertible {
        /// The 1-based line number.
        public var line: Int
        /// What is wrong with it, as the API would say it (`invalid_json`,
        /// `unknown_kind`, `invalid_spec`, `invalid_url`).
        public var error: APIError

        /// Makes an error for one line.
        ///
        /// - Parameters:
        ///   - line: The 1-based line number.
        ///   - error: What is wrong with the line.
        public init(line: Int, error: APIError) {
            self.line = line
            self.error = error
        }

        /// `line N: <message> [<code>]`.
        public var description: String { "line \(line): \(error.message) [\(error.code)]" }
    }

    /// Parses one `JobSpec` per non-empty line and validates each.
    ///
    /// Lines are separated by `\n` (a `\r` before it is ignored); lines holding only
    /// whitespace are skipped. Each spec is checked with `JobSpec.validate()`, so a bad
    /// file is rejected before anything is submitted.
    ///
    /// - Parameter text: The file's contents.
    /// - Returns: The specs in file order; empty when the text holds no job.
    /// - Throws: `LineError` for the first bad line, naming its number and an
    ///   `invalid_json`, `unknown_kind`, `invalid_spec` or `invalid_url` error.
    public static func parseSpecs(_ text: String) throws(LineError) -> [JobSpec] {
        let decoder = JSONCoding.makeDecoder(strict: true)
        var specs: [JobSpec] = []
        // Split on the byte 0x0A, not on Character.isNewline: "\r\n" is one Character,
        // and U+2028 may appear raw inside a JSON string.
        let lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for (index, rawLine) in lines.enumerated() {
            let line = String(Substring(rawLine)).trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            let number = index + 1
            let spec: JobSpec
            do {
                spec = try decoder.decode(JobSpec.self, from: Data(line.utf8))
            } catch let error as DecodingError {
                var apiError = APIError(decoding: error)
                if apiError.code == .invalidJSON {
                    apiError.message = "not a valid JSON object"
                } else if Self.isTopLevel(error) {
                    apiError.message = "a job spec must be a JSON object"
                }
                throw LineError(line: number, error: apiError)
            } catch {
                throw LineError(line: number, error: APIError(.invalidJSON, "not a valid JSON object"))
            }
            do throws(APIError) {
                try spec.validate()
            } catch {
                throw LineError(line: number, error: error)
            }
            specs.append(spec)
        }
        return specs
    }

    /// A line that is JSON but not an object (an array, a string, `null`).
    private static func isTopLevel(_ error: DecodingError) -> Bool {
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context): context.codingPath.isEmpty
        default: false
        }
    }
}
