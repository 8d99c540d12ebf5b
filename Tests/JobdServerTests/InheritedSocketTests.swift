import Foundation
import JobdModel
import JobdRuntime
import JobdStoreSQLite
import Logging
import ServiceLifecycle
import Testing

@testable import JobdServer

#if canImport(Glibc)
    import Glibc
#endif

/// The server on a listening socket another process bound, as systemd passes one under
/// socket activation: the socket's owner here is the test, which keeps its own descriptor.
@Suite struct InheritedSocketTests {
    /// A listening Unix socket at `path`, mode 0600, as systemd's socket unit makes one.
    static func listen(at path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: path.utf8.prefix(buffer.count - 1))
        }
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
            }
        }
        guard bound, Glibc.listen(fd, 64) == 0, chmod(path, 0o600) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        return fd
    }

    /// Polls `condition` until it holds, failing after `timeout`.
    static func waitUntil(
        _ what: String, timeout: Duration = .seconds(10), _ condition: () -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out waiting until \(what)")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Serves the v1 API on a copy of a listening socket at a fresh path while `body` runs,
    /// in a `ServiceGroup` with its hand-off; `body` gets the path, the test's own
    /// descriptor, the hand-off and the group.
    static func withInheritedServer(
        _ body: (String, Int32, ListenerHandoff, ServiceGroup) async throws -> Void
    ) async throws {
        let directory = URL(fileURLWithPath: "/tmp").appendingPathComponent("jit-" + UUID().uuidString.prefix(8))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let socketPath = directory.appendingPathComponent("s.sock").path
        let fd = try listen(at: socketPath)
        defer { close(fd) }
        // systemd keeps its descriptor and passes the service a copy.
        let passed = dup(fd)
        let options = ServerOptions(socketPath: socketPath, socketMode: 0o666)
        let store = try SQLiteJobStore(path: directory.appendingPathComponent("jobs.sqlite").path)
        defer { try? store.close() }
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let events = EventBroadcaster()
        let dispatcher = Dispatcher(
            store: store, executors: [.delay: DelayExecutor()], options: RuntimeOptions(), events: events,
            logger: logger)
        let router = APIServer.makeRouter(
            store: store, dispatcher: dispatcher, events: events, options: options, daemonUID: TestPeer.daemonUID)
        let handoff = ListenerHandoff(timeout: .seconds(10), logger: logger)
        let ready = AsyncStream.makeStream(of: Void.self)
        let app = APIServer.makeApplication(
            router: router, options: options, listener: .inherited(descriptor: passed, handoff: handoff),
            logger: logger
        ) {
            ready.continuation.yield()
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: app), .init(service: handoff)], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            for await _ in ready.stream { break }
            try await body(socketPath, fd, handoff, group)
            tasks.cancelAll()
        }
    }

    @Test("it serves on a socket it did not bind, with the peer's uid, and leaves the file's mode")
    func servesInherited() async throws {
        try await Self.withInheritedServer { socketPath, _, _, group in
            let connection = try UnixConnection(path: socketPath)
            let body = #"{"kind":"delay","seconds":60}"#
            let response = try await connection.exchange(
                "POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)")
            #expect(response.status == 201, "\(response.body)")
            let record = try JSONCoding.makeDecoder().decode(JobRecord.self, from: Data(response.body.utf8))
            #expect(record.submitterUID == geteuid())
            // socket_mode 0666 is jobd's own socket's: systemd's keeps the unit's mode.
            let attributes = try FileManager.default.attributesOfItem(atPath: socketPath)
            #expect(attributes[.posixPermissions] as? Int == 0o600)
            await group.triggerGracefulShutdown()
        }
    }

    @Test("on shutdown it stops accepting at once, answers the connection it took, and leaves the next one queued")
    func handsOff() async throws {
        try await Self.withInheritedServer { socketPath, fd, handoff, group in
            // Accepted before the stop, its request not yet sent.
            let early = try UnixConnection(path: socketPath)
            try await Self.waitUntil("the server accepted the connection") { handoff.connectionCount == 1 }
            await group.triggerGracefulShutdown()
            try await Self.waitUntil("the server stopped accepting") { !handoff.isAccepting }
            // The socket is still open (the test's descriptor): this one waits in its backlog.
            let late = try UnixConnection(path: socketPath)
            let body = #"{"kind":"delay","seconds":60}"#
            let response = try await early.exchange(
                "POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)")
            #expect(response.status == 201, "\(response.body)")
            try await Self.waitUntil("the server let go of its connections") { handoff.connectionCount == 0 }
            // The next process accepts it from the same socket: here the test does.
            let flags = fcntl(fd, F_GETFL)
            _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
            var accepted: Int32 = -1
            try await Self.waitUntil("the queued connection is accepted from the socket") {
                accepted = accept(fd, nil, nil)
                return accepted >= 0
            }
            close(accepted)
            #expect(FileManager.default.fileExists(atPath: socketPath))
            withExtendedLifetime(late) {}
        }
    }
}
