import Foundation
import JobdModel

#if canImport(Glibc)
    import Glibc
#endif

/// One HTTP answer read off the daemon's socket: status, headers (names lowercased) and
/// the body (chunked transfer decoded).
struct SocketAnswer: CustomStringConvertible {
    var status: Int
    /// Lower-cased names.
    var headers: [String: String]
    /// The body's bytes.
    var data: Data

    /// The body as text.
    var body: String { String(decoding: data, as: UTF8.self) }

    var description: String { "\(status) \(headers) \(body)" }

    /// The `{"error":{…}}` body, when it is one.
    var apiError: APIError? {
        try? JSONCodingForTests.decoder.decode(APIErrorResponse.self, from: data).error
    }

    func record() throws -> JobRecord {
        try JSONCodingForTests.decoder.decode(JobRecord.self, from: data)
    }

    /// Parses a whole HTTP/1.1 response read as text; status 0 when it is not one.
    init(raw: String) {
        if let answer = try? SocketAnswer(parsing: Array(raw.utf8)) {
            self = answer
        } else {
            self.init(status: 0, headers: [:], data: Data(raw.utf8))
        }
    }

    init(status: Int, headers: [String: String], data: Data) {
        self.status = status
        self.headers = headers
        self.data = data
    }

    /// Parses a whole HTTP/1.1 response.
    init(parsing bytes: [UInt8]) throws {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let split = Self.find(separator, in: bytes, from: 0) else {
            throw OpenAPIError(message: "no complete HTTP head in \(bytes.count) bytes")
        }
        let head = String(decoding: bytes[..<split], as: UTF8.self).components(separatedBy: "\r\n")
        let statusLine = head.first?.split(separator: " ") ?? []
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
            throw OpenAPIError(message: "bad status line \(head.first ?? "")")
        }
        self.status = status
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        self.headers = headers
        var rest = Array(bytes[(split + separator.count)...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            var body: [UInt8] = []
            let crlf: [UInt8] = Array("\r\n".utf8)
            while let lineEnd = Self.find(crlf, in: rest, from: 0),
                let size = Int(String(decoding: rest[..<lineEnd], as: UTF8.self), radix: 16), size > 0,
                lineEnd + 2 + size <= rest.count
            {
                body += rest[(lineEnd + 2)..<(lineEnd + 2 + size)]
                rest = Array(rest[min(rest.count, lineEnd + 2 + size + 2)...])
            }
            self.data = Data(body)
        } else {
            self.data = Data(rest)
        }
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        for index in start...(haystack.count - needle.count)
        where haystack[index..<(index + needle.count)].elementsEqual(needle) {
            return index
        }
        return nil
    }
}

/// A connection to the daemon's socket, read off the cooperative pool (each blocking read
/// runs on a Dispatch queue).
final class SocketConnection: @unchecked Sendable {
    private let fd: Int32
    /// Everything read so far.
    private(set) var received: [UInt8] = []
    private let queue = DispatchQueue(label: "jobd-test-socket")

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: path.utf8.prefix(buffer.count - 1))
        }
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
            }
        }
        guard connected else {
            close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
        // Reads wake at least every 200 ms, so a deadline is noticed.
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written > 0 else { return }
            offset += written
        }
    }

    /// Reads until `done(received)` holds, the peer closes, or the deadline passes.
    ///
    /// - Returns: True when `done` held.
    func read(until deadline: ContinuousClock.Instant, _ done: @escaping @Sendable ([UInt8]) -> Bool) async -> Bool {
        await withCheckedContinuation { continuation in
            queue.async {
                var buffer = [UInt8](repeating: 0, count: 65536)
                while !done(self.received) {
                    if ContinuousClock.now >= deadline { return continuation.resume(returning: false) }
                    let count = buffer.withUnsafeMutableBytes { Glibc.read(self.fd, $0.baseAddress, $0.count) }
                    if count == 0 { return continuation.resume(returning: done(self.received)) }
                    if count > 0 { self.received += buffer[0..<count] }
                }
                continuation.resume(returning: true)
            }
        }
    }

    /// One request with `Connection: close`, its whole answer.
    static func exchange(
        path: String, method: String, target: String, body: Data? = nil, deadline: Duration = .seconds(30)
    ) async throws -> SocketAnswer {
        let connection = try SocketConnection(path: path)
        var head = "\(method) \(target) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        if let body { head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" }
        connection.send(Array((head + "\r\n").utf8) + Array(body ?? Data()))
        _ = await connection.read(until: .now + deadline) { _ in false }
        return try SocketAnswer(parsing: connection.received)
    }
}
