import Foundation
import JobdModel
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A minimal HTTP/1.1 server on a Unix socket that answers with canned responses, so
/// the client's requests, decoding and error mapping can be tested without jobd.
///
/// It serves one request per connection (`Connection: close`), each connection on a
/// thread of its own with blocking calls, so it never occupies the test's cooperative
/// pool and a streamed answer (an event stream) does not hold up other requests.
final class FakeDaemon: Sendable {
    /// One request as the daemon received it.
    struct Request: Sendable {
        var method: String
        var uri: String
        var body: Data
    }

    /// One canned answer.
    struct Response: Sendable {
        var status: Int
        var body: Data
        var headers: [String: String] = [:]
        /// When set, the answer has no `Content-Length`: after the head, this writes the
        /// body in pieces with `send` (false once the client has gone) and the
        /// connection closes when it returns.
        var stream: (@Sendable (_ send: (Data) -> Bool) -> Void)?

        static func json(_ status: Int, _ value: some Encodable, headers: [String: String] = [:]) -> Response {
            // Test fixtures are plain model values: encoding them cannot fail.
            Response(status: status, body: try! JSONCoding.makeEncoder().encode(value), headers: headers)
        }

        static func raw(_ status: Int, _ text: String, headers: [String: String] = [:]) -> Response {
            Response(status: status, body: Data(text.utf8), headers: headers)
        }

        /// A `text/event-stream` answer written by `stream`.
        static func eventStream(_ stream: @escaping @Sendable (_ send: (Data) -> Bool) -> Void) -> Response {
            Response(status: 200, body: Data(), headers: ["Content-Type": "text/event-stream"], stream: stream)
        }
    }

    let socketPath: String
    private let directory: String
    private let listener: Int32
    private let handler: @Sendable (Request) -> Response
    private let log = Mutex<[Request]>([])

    /// The requests served so far, oldest first.
    var requests: [Request] { log.withLock { $0 } }

    private init(handler: @escaping @Sendable (Request) -> Response) throws {
        var template = Array("/tmp/jobdclient-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        let directory = String(cString: made)
        let socketPath = directory + "/d.sock"

        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { bytes in
            for (index, byte) in socketPath.utf8.enumerated() { bytes[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw POSIXError(.init(rawValue: errno) ?? .EIO)
        }
        self.directory = directory
        self.socketPath = socketPath
        self.handler = handler
        listener = fd
    }

    /// Runs `body` with a fake daemon giving every request the same answer.
    static func with<Result>(
        answer: Response,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (FakeDaemon) async throws -> Result
    ) async throws -> Result {
        try await with(handler: { _ in answer }, isolation: isolation, body: body)
    }

    /// Runs `body` with a fake daemon answering every request with `handler`; the
    /// daemon stops and its directory is removed on return, also when `body` throws.
    static func with<Result>(
        handler: @escaping @Sendable (Request) -> Response,
        isolation: isolated (any Actor)? = #isolation,
        body: (FakeDaemon) async throws -> Result
    ) async throws -> Result {
        let daemon = try FakeDaemon(handler: handler)
        let thread = Thread { daemon.serve() }
        thread.start()
        defer { daemon.stop() }
        return try await body(daemon)
    }

    private func serve() {
        while true {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else {
                if errno == EINTR { continue }
                return  // the listener was shut down
            }
            let thread = Thread { [self] in
                handle(connection)
                close(connection)
            }
            thread.start()
        }
    }

    private func stop() {
        // shutdown() wakes the thread blocked in accept(), which then returns.
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func handle(_ connection: Int32) {
        var received = Data()
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let separator = Data("\r\n\r\n".utf8)
        var headEnd: Range<Data.Index>?
        while headEnd == nil {
            let count = recv(connection, &chunk, chunk.count, 0)
            guard count > 0 else { return }
            received.append(contentsOf: chunk[0..<count])
            headEnd = received.range(of: separator)
        }
        guard let headEnd else { return }
        let head = String(decoding: received[..<headEnd.lowerBound], as: UTF8.self)
        let lines = head.components(separatedBy: "\r\n")
        let requestLine = lines[0].split(separator: " ")
        guard requestLine.count >= 2 else { return }
        var length = 0
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "content-length" {
                length = Int(parts[1].trimmingCharacters(in: .whitespaces)) ?? 0
            }
        }
        var body = Data(received[headEnd.upperBound...])
        while body.count < length {
            let count = recv(connection, &chunk, chunk.count, 0)
            guard count > 0 else { return }
            body.append(contentsOf: chunk[0..<count])
        }
        let request = Request(method: String(requestLine[0]), uri: String(requestLine[1]), body: body)
        log.withLock { $0.append(request) }
        let response = handler(request)
        var answerHead = "HTTP/1.1 \(response.status) Fake\r\nConnection: close\r\n"
        var headers = response.headers
        if headers["Content-Type"] == nil {
            headers["Content-Type"] = "application/json"
        }
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
            answerHead += "\(name): \(value)\r\n"
        }
        if let stream = response.stream {
            guard Self.send(Data((answerHead + "\r\n").utf8), on: connection) else { return }
            stream { Self.send($0, on: connection) }
            return
        }
        var bytes = Data((answerHead + "Content-Length: \(response.body.count)\r\n\r\n").utf8)
        bytes.append(response.body)
        _ = Self.send(bytes, on: connection)
    }

    /// Writes all of `data`; false when the client has closed the connection.
    private static func send(_ data: Data, on connection: Int32) -> Bool {
        data.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return true }
            var offset = 0
            while offset < buffer.count {
                let sent = Glibc.send(connection, base + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                if sent <= 0 { return false }
                offset += sent
            }
            return true
        }
    }
}
