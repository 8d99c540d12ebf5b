import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A running `jobctl dashboard`: the URL it printed, ended with SIGTERM.
final class DashboardProcess: @unchecked Sendable {
    let process: Process
    /// `http://127.0.0.1:PORT/ui/?token=TOKEN`.
    let url: String
    let port: Int
    let token: String

    private init(process: Process, url: String) throws {
        self.process = process
        self.url = url
        guard let components = URLComponents(string: url), let port = components.port,
            let token = components.queryItems?.first(where: { $0.name == "token" })?.value
        else { throw TestDaemon.DaemonFailed(message: "jobctl dashboard printed \(url)") }
        self.port = port
        self.token = token
    }

    /// Starts `jobctl dashboard` (through `launcher`, such as setpriv, when given) and
    /// waits (deadline 30 s) for its URL.
    static func start(
        socketPath: String, jobctl: String = Binaries.jobctl.path, launcher: [String] = [],
        environment: [String: String] = [:]
    ) async throws -> DashboardProcess {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("jobd-dash-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let process = Process()
        let arguments = ["dashboard", "--socket", socketPath]
        if let first = launcher.first {
            process.executableURL = URL(fileURLWithPath: first)
            process.arguments = Array(launcher.dropFirst()) + [jobctl] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: jobctl)
            process.arguments = arguments
        }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = FileHandle.standardError
        process.standardInput = FileHandle.nullDevice
        try await launch(process)
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("http://") }), text.hasSuffix("\n") {
                return try DashboardProcess(process: process, url: String(line))
            }
            if !process.isRunning {
                throw TestDaemon.DaemonFailed(message: "jobctl dashboard exited \(process.terminationStatus): \(text)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.terminate()
        throw TestDaemon.DaemonFailed(message: "jobctl dashboard printed no URL within 30 s")
    }

    /// Sends SIGTERM (or `signal`) and waits for the exit.
    @discardableResult
    func end(signal: Int32 = SIGTERM) async throws -> Int32 {
        let exited = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { process in
            exited.continuation.yield(process.terminationStatus)
            exited.continuation.finish()
        }
        if process.isRunning { kill(process.processIdentifier, signal) }
        if !process.isRunning { return process.terminationStatus }
        return try await runToEnd(process, timeout: .seconds(30))
    }
}

/// Runs `body` with `jobctl dashboard` running against `daemon`; ends it afterwards.
func withDashboard(
    _ daemon: TestDaemon, _ body: (DashboardProcess) async throws -> Void
) async throws {
    let dashboard = try await DashboardProcess.start(socketPath: daemon.socketPath)
    do {
        try await body(dashboard)
    } catch {
        _ = try? await dashboard.end()
        throw error
    }
    try await dashboard.end()
}

/// One HTTP/1.1 request to a loopback TCP port (the browser's view), its whole answer.
enum LoopbackHTTP {
    static func request(
        port: Int, _ target: String, method: String = "GET", cookie: String? = nil, host: String? = nil
    ) async throws -> SocketAnswer {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    with: Result { try exchange(port: port, method, target, cookie: cookie, host: host) })
            }
        }
    }

    /// True when something accepts connections on the port.
    static func listens(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return connect(fd, port: port)
    }

    private static func connect(_ fd: Int32, port: Int) -> Bool {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    private static func exchange(port: Int, _ method: String, _ target: String, cookie: String?, host: String?)
        throws -> SocketAnswer
    {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        defer { close(fd) }
        guard connect(fd, port: port) else { throw POSIXError(.ECONNREFUSED) }
        var timeout = timeval(tv_sec: 15, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(host ?? "127.0.0.1:\(port)")\r\nConnection: close\r\n"
        if let cookie { head += "Cookie: \(cookie)\r\n" }
        if method == "POST" {
            head += "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
        } else {
            head += "\r\n"
        }
        let bytes = Array(head.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written > 0 else { throw POSIXError(.EPIPE) }
            offset += written
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            received += buffer[0..<count]
        }
        return try SocketAnswer(parsing: received)
    }
}
