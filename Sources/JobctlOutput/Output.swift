import Foundation
import JobdModel

/// Writing to stdout and stderr.
///
/// Both go straight to the file descriptors (no stdio buffering), so lines on the two
/// streams keep their order and nothing is lost when the process exits.
public enum Output {
    /// Writes bytes to stdout as they are.
    ///
    /// - Parameter data: The bytes; nothing is written when it is empty.
    public static func write(_ data: Data) {
        guard !data.isEmpty else { return }
        FileHandle.standardOutput.write(data)
    }

    /// Writes a line to stdout.
    ///
    /// - Parameter text: The line, without its newline.
    public static func line(_ text: String) {
        write(Data((text + "\n").utf8))
    }

    /// Writes a line to stderr.
    ///
    /// - Parameter text: The line; a newline is added when it has none.
    public static func error(_ text: String) {
        let text = Palette.standardError.errorLine(text.hasSuffix("\n") ? text : text + "\n")
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Writes a table to stdout, each line ending with a newline.
    ///
    /// States are coloured when stdout is a terminal (see `Palette`).
    ///
    /// - Parameter table: The table; an empty one writes nothing.
    public static func table(_ table: TextTable) {
        write(Data(table.render(palette: .standardOutput).utf8))
    }

    /// Writes a value as the API's JSON, pretty-printed with sorted keys, and a newline.
    ///
    /// - Parameter value: The value, encoded with `JSONCoding`'s encoder.
    /// - Throws: The encoder's error when the value cannot be encoded.
    public static func json(_ value: some Encodable) throws {
        let encoder = JSONCoding.makeEncoder()
        encoder.outputFormatting.insert(.prettyPrinted)
        encoder.outputFormatting.insert(.sortedKeys)
        write(try encoder.encode(value) + Data("\n".utf8))
    }

    /// Prints a job the way `jobctl result` does and returns whether it succeeded.
    ///
    /// With `json`, the record is printed; otherwise the result alone. Either way the
    /// error line of a job that did not succeed goes to stderr.
    ///
    /// - Parameters:
    ///   - record: The job.
    ///   - json: Whether to print the record as JSON instead of the result.
    /// - Returns: True when the job succeeded.
    /// - Throws: The encoder's error when `json` is set and the record cannot be encoded.
    @discardableResult
    public static func result(of record: JobRecord, json: Bool) throws -> Bool {
        let rendering = ResultRenderer.render(record)
        if json {
            try Output.json(record)
        } else {
            write(rendering.output)
        }
        if let line = rendering.errorLine {
            error(line)
        }
        return rendering.isSuccess
    }
}
