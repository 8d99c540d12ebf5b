import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A misbehaving HTTP server on 127.0.0.1: plain sockets, one thread per connection, so
/// its faults are exact (byte timing, RST instead of FIN) where a real server would
/// correct them. Every connection gets the same fault.
///
/// The test waits on what the server saw (`waitUntil`), never on a guessed sleep.
final class FaultServer: Sendable {
    /// What the server does with each connection.
    enum Fault: String, Sendable, CustomStringConvertible {
        /// Reads the request, then sends a status line and a header one byte a second,
        /// never finishing the head.
        case trickleHead
        /// Reads the request, sends a complete head (`Content-Length: 1000000`), then the
        /// body one byte a second.
        case trickleBody
        /// Reads the request, then sends a chunked body that never ends (64 KiB chunks).
        case endlessChunked
        /// Reads the request, declares `Content-Length: 1099511627776` (1 TiB) and sends
        /// body bytes until the client hangs up.
        case endlessDeclared
        /// Reads the request, answers with neither length nor chunking (the body ends
        /// when the connection closes) and never closes it.
        case endlessUntilClose
        /// Accepts and at once resets (`SO_LINGER` 0, then close), before reading a byte.
        case resetOnAccept
        /// Reads the request, then resets without answering.
        case resetAfterRequest
        /// Reads the request, sends half a response head, then resets.
        case resetInHead
        /// Reads the request, sends a head declaring 100000 bytes and 1000 of them, then
        /// resets.
        case resetInBody
        /// Reads the request, then closes normally (FIN) without answering.
        case closeAfterRequest
        /// As `resetInHead`, but closes normally (FIN): the head ends half-way.
        case closeInHead
        /// As `resetInBody`, but closes normally (FIN): the body ends short.
        case closeInBody
        /// Reads the request, starts a chunked body, then closes normally (FIN) inside
        /// the first chunk.
        case closeInChunk

        var description: String { rawValue }
    }

    /// What the server saw, for the test to wait on.
    struct Observed: Sendable {
        /// Connections accepted.
        var connections = 0
        /// Request heads read (through the blank line).
        var requests: [String] = []
        /// Response bytes the kernel took, over all connections.
        var bytesSent = 0
        /// Connections the client closed or reset while the server was still sending.
        var clientHangUps = 0
        /// Connection threads still running.
        var running = 0
    }

    let port: Int
    let fault: Fault
    private let listener: Int32
    private let state = Mutex(Observed())
    private let stopping = Atomic<Bool>(false)

    var base: String { "http://127.0.0.1:\(port)" }

    /// Binds 127.0.0.1:0 and starts accepting on a thread of its own.
    init(_ fault: Fault) throws {
        self.fault = fault
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard fd >= 0, bound, listen(fd, 64) == 0 else {
            if fd >= 0 { _ = Glibc.close(fd) }
            throw POSIXError(.EADDRINUSE)
        }
        listener = fd
        port = SilentListener.localPort(fd)
        state.withLock { $0.running += 1 }
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    /// A snapshot of what the server saw.
    var observed: Observed { state.withLock { $0 } }

    /// Waits until `condition` holds for what the server saw; false past the deadline.
    func waitUntil(
        timeout: Duration = .seconds(10), _ condition: (Observed) -> Bool
    ) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(observed) { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return condition(observed)
    }

    /// Stops accepting and ends every connection thread (each closes its own socket);
    /// waits for them, deadline 5 s.
    func stop() async throws {
        stopping.store(true, ordering: .relaxed)
        let ended = try await waitUntil(timeout: .seconds(5)) { $0.running == 0 }
        #expect(ended, "the fault server's threads did not end: \(observed)")
    }

    private var isStopping: Bool { stopping.load(ordering: .relaxed) }

    private func acceptLoop() {
        defer {
            _ = Glibc.close(listener)
            state.withLock { $0.running -= 1 }
        }
        while !isStopping {
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 50) > 0 else { continue }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { continue }
            state.withLock {
                $0.connections += 1
                $0.running += 1
            }
            Thread.detachNewThread { [self] in
                defer { state.withLock { $0.running -= 1 } }
                serve(connection)
            }
        }
    }

    private func serve(_ fd: Int32) {
        // Short send/receive timeouts: a blocked call comes back often enough to see stop().
        var interval = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        switch fault {
        case .resetOnAccept:
            reset(fd)
            return
        default:
            break
        }
        guard readRequest(fd) else {
            _ = Glibc.close(fd)
            return
        }
        switch fault {
        case .trickleHead:
            trickle(fd, head: "", bytes: "HTTP/1.1 200 OK\r\nX-Trickle: " + String(repeating: "a", count: 100_000))
        case .trickleBody:
            trickle(
                fd, head: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000000\r\n\r\n",
                bytes: String(repeating: "b", count: 1_000_000))
        case .endlessChunked:
            let chunk =
                Array("10000\r\n".utf8) + [UInt8](repeating: UInt8(ascii: "c"), count: 0x10000) + Array("\r\n".utf8)
            endless(
                fd, head: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n", chunk)
        case .endlessDeclared:
            endless(
                fd, head: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1099511627776\r\n\r\n",
                [UInt8](repeating: UInt8(ascii: "d"), count: 0x10000))
        case .endlessUntilClose:
            endless(
                fd, head: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n",
                [UInt8](repeating: UInt8(ascii: "e"), count: 0x10000))
        case .resetAfterRequest:
            reset(fd)
        case .resetInHead:
            _ = send(fd, Array("HTTP/1.1 200 OK\r\nContent-Ty".utf8))
            reset(fd)
        case .resetInBody:
            _ = send(fd, Self.shortBody)
            reset(fd)
        case .closeAfterRequest:
            finish(fd)
        case .closeInHead:
            _ = send(fd, Array("HTTP/1.1 200 OK\r\nContent-Ty".utf8))
            finish(fd)
        case .closeInBody:
            _ = send(fd, Self.shortBody)
            finish(fd)
        case .closeInChunk:
            let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n10000\r\n"
            _ = send(fd, Array(head.utf8) + [UInt8](repeating: UInt8(ascii: "r"), count: 1000))
            finish(fd)
        case .resetOnAccept:
            break
        }
    }

    /// Reads through the blank line ending the request head; false if none came (5 s).
    private func readRequest(_ fd: Int32) -> Bool {
        var head: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline, !isStopping {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { return false }
            if count < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { continue }
                return false
            }
            head += buffer[0..<count]
            if let end = head.firstRange(of: Array("\r\n\r\n".utf8)) {
                let text = String(decoding: head[..<end.lowerBound], as: UTF8.self)
                state.withLock { $0.requests.append(text) }
                return true
            }
        }
        return false
    }

    /// Sends `bytes`, retrying short and timed-out sends; false when the client hung up
    /// (or the server is stopping).
    private func send(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            if isStopping { return false }
            let count = bytes.withUnsafeBytes { buffer in
                Glibc.send(fd, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
            }
            if count < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { continue }
                state.withLock { $0.clientHangUps += 1 }
                return false
            }
            offset += count
            state.withLock { $0.bytesSent += count }
        }
        return true
    }

    /// Sends `head` at once, then `bytes` one a second; ends when the client hangs up.
    private func trickle(_ fd: Int32, head: String, bytes: String) {
        defer { _ = Glibc.close(fd) }
        if !head.isEmpty, !send(fd, Array(head.utf8)) { return }
        for byte in bytes.utf8 {
            guard send(fd, [byte]) else { return }
            // A second until the next byte, woken early by the client's hang-up.
            if awaitHangUp(fd, within: .seconds(1)) {
                state.withLock { $0.clientHangUps += 1 }
                return
            }
        }
    }

    /// Sends `head`, then `chunk` over and over until the client hangs up.
    private func endless(_ fd: Int32, head: String, _ chunk: [UInt8]) {
        defer { _ = Glibc.close(fd) }
        guard send(fd, Array(head.utf8)) else { return }
        while send(fd, chunk) {}
    }

    /// A head declaring 100000 bytes, and 1000 of them.
    private static let shortBody =
        Array("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n".utf8)
        + [UInt8](repeating: UInt8(ascii: "r"), count: 1000)

    /// Closes with a FIN: a half-close (the FIN follows what was sent), then waits for the
    /// client to close its side, so closing ours stays a FIN and never turns into an RST.
    private func finish(_ fd: Int32) {
        shutdown(fd, Int32(SHUT_WR))
        _ = awaitHangUp(fd)
        _ = Glibc.close(fd)
    }

    /// Closes with an RST instead of a FIN: `SO_LINGER` on with a zero timeout.
    private func reset(_ fd: Int32) {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        _ = Glibc.close(fd)
    }

    /// True once the client closed or reset the connection (a read sees the end or an
    /// error); false after `within` or when the server stops.
    private func awaitHangUp(_ fd: Int32, within: Duration = .seconds(10)) -> Bool {
        let deadline = ContinuousClock.now + within
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline, !isStopping {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            // 100 ms steps: the deadline is overshot by at most that.
            guard poll(&poller, 1, 100) > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count == 0 { return true }
            if count < 0, errno != EAGAIN, errno != EWOULDBLOCK, errno != EINTR { return true }
        }
        return false
    }
}

/// Runs `body` with a fault server, stopping it (and its threads) afterwards.
func withFaultServer(
    _ fault: FaultServer.Fault, _ body: (FaultServer) async throws -> Void
) async throws {
    let server = try FaultServer(fault)
    do {
        try await body(server)
    } catch {
        try await server.stop()
        throw error
    }
    try await server.stop()
}
