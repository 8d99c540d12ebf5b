import Foundation
import Hummingbird
import JobdModel
import NIOCore
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Fetch targets on 127.0.0.1, started by the test: never the internet.
///
/// - `/ok` answers 200 `hello from the test server`.
/// - `/status/{code}` answers that status with body `status {code}`.
/// - `/slow/{ms}` answers 200 after that many milliseconds.
/// - `/redirect?to=URL` answers 302 to URL; `/loop` redirects to itself; `/hop/{n}` to `/hop/{n+1}`.
struct LocalHTTPServer {
    let port: Int
    var base: String { "http://127.0.0.1:\(port)" }
}

/// Runs `body` with a Hummingbird server on 127.0.0.1:0, stopping it afterwards.
func withLocalHTTPServer(_ body: @escaping @Sendable (LocalHTTPServer) async throws -> Void) async throws {
    let router = Router()
    router.get("/ok") { _, _ in "hello from the test server" }
    router.get("/status/:code") { _, context -> Response in
        let code = Int(context.parameters.get("code") ?? "") ?? 500
        return Response(
            status: .init(code: code), headers: [.contentType: "text/plain"],
            body: .init(byteBuffer: ByteBuffer(string: "status \(code)")))
    }
    router.get("/redirect") { request, _ -> Response in
        let target = request.uri.queryParameters.get("to") ?? "/ok"
        return Response(status: .found, headers: [.location: target])
    }
    router.get("/loop") { _, _ -> Response in Response(status: .found, headers: [.location: "/loop"]) }
    router.get("/hop/:n") { _, context -> Response in
        let n = Int(context.parameters.get("n") ?? "") ?? 0
        return Response(status: .found, headers: [.location: "/hop/\(n + 1)"])
    }
    router.get("/slow/:ms") { _, context -> String in
        let ms = Int(context.parameters.get("ms") ?? "") ?? 100
        try await Task.sleep(for: .milliseconds(ms))
        return "slow \(ms)"
    }
    try await serve(router) { port in try await body(LocalHTTPServer(port: port)) }
}

/// Serves `router` on 127.0.0.1 at a free port while `body` runs with that port.
func serve(_ router: Router<BasicRequestContext>, _ body: (Int) async throws -> Void) async throws {
    let port = AsyncStream<Int>.makeStream()
    let app = Application(
        router: router,
        configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in
            port.continuation.yield(channel.localAddress?.port ?? 0)
            port.continuation.finish()
        })
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await app.runService(gracefulShutdownSignals: []) }
        var bound = 0
        for await value in port.stream { bound = value }
        try #require(bound > 0)
        do {
            try await body(bound)
        } catch {
            group.cancelAll()
            throw error
        }
        group.cancelAll()
    }
}

/// A TCP listener on 127.0.0.1 that never accepts: connections complete in the kernel's
/// backlog and no byte is ever answered. `close()` it when done.
final class SilentListener: Sendable {
    let port: Int
    private let fd: Int32

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard bound, listen(fd, 64) == 0 else {
            _ = Glibc.close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        port = Self.localPort(fd)
    }

    func close() { _ = Glibc.close(fd) }

    static func localPort(_ fd: Int32) -> Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A port on 127.0.0.1 where nothing listens (bound, then closed).
    static func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { _ = Glibc.close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        return localPort(fd)
    }
}

/// The decoder matching the daemon's JSON.
enum JSONCodingForTests {
    static var decoder: JSONDecoder { JSONCoding.makeDecoder() }
}
