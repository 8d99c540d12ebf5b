import Foundation
import JobdClient
import JobdModel

/// Reading an NDJSON job file (`gather --file`, `submit --file`).
enum SpecFile {
    /// Reads and parses the file, before anything is submitted.
    ///
    /// - Parameter file: The path, or `-` for stdin.
    /// - Returns: The specs, in file order; at least one.
    /// - Throws: `CommandError` (exit 2) when the file cannot be read, is not UTF-8,
    ///   holds a bad line or holds no job.
    static func read(_ file: String) throws -> [JobSpec] {
        let name = file == "-" ? "stdin" : file
        let data: Data
        do {
            // A FileHandle reads pipes and character devices (/dev/stdin, /dev/null)
            // too, which Data(contentsOf:) refuses.
            let handle =
                file == "-" ? FileHandle.standardInput : try FileHandle(forReadingFrom: URL(fileURLWithPath: file))
            data = try handle.readToEnd() ?? Data()
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

    /// Parses one job spec given on the command line (`--on-complete`).
    ///
    /// - Throws: `CommandError` (exit 2) naming the problem.
    static func spec(json text: String) throws -> JobSpec {
        let specs: [JobSpec]
        do {
            specs = try NDJSON.parseSpecs(text)
        } catch {
            throw CommandError.usage("--on-complete: \(error.error.message)", code: error.error.code.rawValue)
        }
        guard specs.count == 1, let spec = specs.first else {
            throw CommandError.usage("--on-complete takes one job spec as a JSON object")
        }
        return spec
    }
}
