import Foundation
import JobdClient
import JobdModel

#if canImport(Glibc)
    import Glibc
#endif

extension Output {
    /// Prints a downloaded result the way `jobctl result` does and returns whether the
    /// job succeeded.
    ///
    /// A fetch's body goes to stdout chunk by chunk as it arrives, exactly: `jobctl result
    /// ID > file` reproduces it byte for byte. Only when stdout is a terminal is a newline
    /// added after a body that does not end with one, so the prompt starts on its own
    /// line. A delay's value prints as `ResultRenderer` prints it (a string raw, anything
    /// else as compact JSON, then a newline). A failed job (an `http_status` failure,
    /// whose response is the result) prints its body, then its error line on stderr.
    ///
    /// - Parameter download: The result, its body not read yet.
    /// - Returns: True when the job succeeded.
    /// - Throws: `ClientError` from the download; `POSIXError` when stdout cannot be
    ///   written.
    public static func result(of download: ResultDownload) async throws -> Bool {
        switch download.kind {
        case .delay:
            let data = try await download.collect(upTo: JobdClient.maxResponseBytes)
            let value =
                (try? JSONCoding.makeDecoder().decode(JSONValue.self, from: data))
                ?? .string(String(decoding: data, as: UTF8.self))
            write(ResultRenderer.output(for: .delay(DelayResult(value: value))))
        case .fetch:
            var last: UInt8?
            try await download.write { chunk in
                try writeStandardOutput(chunk)
                if let byte = chunk.last { last = byte }
            }
            if let last, last != UInt8(ascii: "\n"), isatty(STDOUT_FILENO) == 1 {
                write(Data("\n".utf8))
            }
        }
        guard download.state == .succeeded else {
            let code = download.error?.code.rawValue ?? "internal"
            let message = download.error?.message ?? "no error was recorded"
            error("error: job \(download.id) failed: \(message) [\(code)]")
            return false
        }
        return true
    }

    /// Writes all of `bytes` to stdout, however many `write` calls it takes.
    ///
    /// - Throws: `POSIXError` with the `errno` of a failed write.
    static func writeStandardOutput(_ bytes: UnsafeRawBufferPointer) throws {
        guard var base = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let written = Glibc.write(STDOUT_FILENO, base, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            }
            remaining -= written
            base += written
        }
    }
}
