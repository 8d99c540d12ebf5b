import Foundation
import Hummingbird
import JobdModel
import JobdRuntime
import JobdServer
import JobdStore
import JobdStoreSQLite
import Logging
import ServiceLifecycle
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The server on a real Unix socket: peer credentials from `SO_PEERCRED`, the socket's
/// group and mode.
@Suite struct SocketPeerTests {
    /// Serves the v1 API on a fresh socket while `body` runs.
    static func withLiveServer(
        socketMode: UInt16 = 0o660, socketGroup: String? = nil, _ body: (String) async throws -> Void
    ) async throws {
        let directory = URL(fileURLWithPath: "/tmp").appendingPathComponent("jst-" + UUID().uuidString.prefix(8))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let socketPath = directory.appendingPathComponent("s.sock").path
        let options = ServerOptions(socketPath: socketPath, socketMode: socketMode, socketGroup: socketGroup)
        let store = try SQLiteJobStore(path: directory.appendingPathComponent("jobs.sqlite").path)
        defer { try? store.close() }
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let events = EventBroadcaster()
        let dispatcher = Dispatcher(
            store: store, executors: [.delay: DelayExecutor()], options: RuntimeOptions(), events: events,
            logger: logger)
        // A daemon uid that is not this process's: the peer is judged as any user would be.
        let router = APIServer.makeRouter(
            store: store, dispatcher: dispatcher, events: events, options: options, daemonUID: TestPeer.daemonUID)
        let ready = AsyncStream.makeStream(of: Void.self)
        let app = APIServer.makeApplication(router: router, options: options, logger: logger) {
            ready.continuation.yield()
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.run() }
            for await _ in ready.stream { break }
            try await body(socketPath)
            group.cancelAll()
        }
    }

    @Test("a job submitted over the socket records the connecting process's uid, request after request")
    func submitterFromSocket() async throws {
        try await Self.withLiveServer { socketPath in
            let connection = try UnixConnection(path: socketPath)
            let body = #"{"kind":"delay","seconds":60}"#
            // Two requests on one keep-alive connection: the second uses the cached credentials.
            for expectedID in 1...2 {
                let response = try await connection.exchange(
                    "POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                        + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)")
                #expect(response.status == 201, "\(response.body)")
                let record = try JSONCoding.makeDecoder().decode(JobRecord.self, from: Data(response.body.utf8))
                #expect(record.id == JobID(Int64(expectedID)))
                #expect(record.submitterUID == geteuid())
            }
        }
    }

    @Test("the socket gets socket.group and socket.mode once bound")
    func socketGroupAndMode() async throws {
        // Root may give any gid, even one no group has; others only their own groups.
        let gid: UInt32 = geteuid() == 0 ? 64_321 : getegid()
        try await Self.withLiveServer(socketMode: 0o640, socketGroup: "\(gid)") { socketPath in
            let attributes = try FileManager.default.attributesOfItem(atPath: socketPath)
            #expect((attributes[.groupOwnerAccountID] as? NSNumber)?.uint32Value == gid)
            #expect(attributes[.posixPermissions] as? Int == 0o640)
        }
    }

    @Test("a socket group that cannot be given leaves the daemon serving")
    func socketGroupMissing() async throws {
        try await Self.withLiveServer(socketGroup: "no-such-group-jobd-test") { socketPath in
            let connection = try UnixConnection(path: socketPath)
            let response = try await connection.exchange("GET /v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n")
            #expect(response.status == 200)
        }
    }
}

/// A blocking HTTP/1.1 client connection over a Unix socket, for a few small exchanges.
///
/// Its reads and writes run on a Dispatch queue: blocking the cooperative pool could
/// starve the server under test, which answers on that pool.
final class UnixConnection: @unchecked Sendable {
    let fd: Int32

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
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// Sends `request` and reads one response with a `Content-Length` body.
    func exchange(_ request: String) async throws -> (status: Int, body: String) {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try self.exchangeBlocking(request) })
            }
        }
    }

    private func exchangeBlocking(_ request: String) throws -> (status: Int, body: String) {
        let bytes = Array(request.utf8)
        guard bytes.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
            throw POSIXError(.EIO)
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        let separator = Array("\r\n\r\n".utf8)
        while true {
            if let end = received.firstRange(of: separator)?.upperBound {
                let head = String(decoding: received[..<end], as: UTF8.self)
                let lines = head.split(separator: "\r\n")
                let status = lines.first.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
                let length =
                    lines.first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                if received.count - end >= length {
                    return (status, String(decoding: received[end..<(end + length)], as: UTF8.self))
                }
            }
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { throw POSIXError(.ECONNRESET) }
            received += buffer[0..<count]
        }
    }
}
