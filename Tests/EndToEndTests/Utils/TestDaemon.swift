import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Where the built `jobd` and `jobctl` are: beside the test bundle, or `$JOBD_BIN_DIR`.
enum Binaries {
    static let directory: URL = {
        if let override = ProcessInfo.processInfo.environment["JOBD_BIN_DIR"] {
            return URL(fileURLWithPath: override)
        }
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        // The runner may be inside an .xctest bundle directory on some platforms.
        while !FileManager.default.fileExists(atPath: url.appendingPathComponent("jobd").path), url.path != "/" {
            url.deleteLastPathComponent()
        }
        return url
    }()

    static var jobd: URL { directory.appendingPathComponent("jobd") }
    static var jobctl: URL { directory.appendingPathComponent("jobctl") }
}

/// What a finished process printed and returned.
struct ProcessOutput: CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String

    var description: String { "exit \(status)\nstdout: \(stdout)\nstderr: \(stderr)" }
}

/// Runs a program to its end, output captured through files (no pipe can fill up).
func run(
    _ executable: URL, _ arguments: [String], environment: [String: String] = [:], stdin: String? = nil,
    timeout: Duration = .seconds(60)
) async throws -> ProcessOutput {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("jobd-run-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let outURL = directory.appendingPathComponent("out")
    let errURL = directory.appendingPathComponent("err")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    process.standardOutput = try FileHandle(forWritingTo: outURL)
    process.standardError = try FileHandle(forWritingTo: errURL)
    if let stdin {
        let inURL = directory.appendingPathComponent("in")
        try Data(stdin.utf8).write(to: inURL)
        process.standardInput = try FileHandle(forReadingFrom: inURL)
    } else {
        process.standardInput = FileHandle.nullDevice
    }
    let status = try await runToEnd(process, timeout: timeout)
    return ProcessOutput(
        status: status,
        stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
}

/// Starts `process`, trying again (up to 4 more times, 100 ms apart) when Foundation's
/// `Process.run()` fails with `NSExecutableLoadError`: a spawn that failed for a passing
/// reason. It was seen once in a fresh-clone CI run (a jobctl of `DaemonTests` while the
/// whole suite ran, 1 launch in several thousand) and never again on the same binary.
func launch(_ process: Process) async throws {
    for attempt in 1... {
        do {
            try process.run()
            return
        } catch let error as NSError
            where error.domain == NSCocoaErrorDomain && error.code == CocoaError.executableLoad.rawValue && attempt < 5
        {
            print("launch of \(process.executableURL?.path ?? "?") failed (\(error)); trying again")
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

/// Starts `process` (if not started) and waits for its exit; kills it past the timeout.
func runToEnd(_ process: Process, timeout: Duration) async throws -> Int32 {
    let exited = AsyncStream<Int32>.makeStream()
    process.terminationHandler = { process in
        exited.continuation.yield(process.terminationStatus)
        exited.continuation.finish()
    }
    if !process.isRunning { try await launch(process) }
    return try await withThrowingTaskGroup(of: Int32?.self) { group in
        group.addTask {
            for await status in exited.stream { return status }
            return nil
        }
        let pid = process.processIdentifier
        group.addTask {
            // Until the deadline, look for an exit Foundation missed: a CI run found a `jobd`
            // that had exited long before as a zombie nobody reaped (its termination
            // handler never ran). Such a child is reaped here and its status returned.
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(250))
                if let status = reapIfZombie(pid) { return status }
            }
            return nil
        }
        let first = try await group.next() ?? nil
        group.cancelAll()
        guard let first else {
            // What the process was doing, for the next reader of a CI log: still running
            // (its state and the kernel function it waits in), or already a zombie or gone
            // (then the exit was missed, not late). A CI run once saw a `jobd
            // --check-config`, which takes 20 ms, not exit within 30 s.
            let pid = process.processIdentifier
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? "gone"
            let wchan = (try? String(contentsOfFile: "/proc/\(pid)/wchan", encoding: .utf8)) ?? "?"
            kill(pid, SIGKILL)
            Issue.record(
                """
                \(process.executableURL?.lastPathComponent ?? "process") did not exit within \(timeout) \
                (pid \(pid), /proc stat: \(stat.prefix(120)), wchan: \(wchan))
                """)
            throw CancellationError()
        }
        return first
    }
}

/// The exit status of `pid` when it is a zombie that this call reaped (the signal number
/// when a signal ended it, as `Process.terminationStatus` gives); nil when it runs, or
/// someone else reaped it first.
func reapIfZombie(_ pid: Int32) -> Int32? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")"),
        stat[stat.index(after: close)...].split(separator: " ").first == "Z"
    else { return nil }
    var status: Int32 = 0
    guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
    return status & 0x7f == 0 ? (status >> 8) & 0xff : status & 0x7f
}

/// A `jobd` process on a temporary socket and database.
final class TestDaemon: @unchecked Sendable {
    let directory: URL
    let socketPath: String
    let databasePath: String
    let logPath: String
    private(set) var process: Process?
    private(set) var exitStatus: Int32?

    init() throws {
        // Short: sun_path holds 108 bytes.
        let name = "jd-" + UUID().uuidString.prefix(8)
        directory = URL(fileURLWithPath: "/tmp").appendingPathComponent(String(name))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        socketPath = directory.appendingPathComponent("s.sock").path
        databasePath = directory.appendingPathComponent("db/jobs.sqlite").path
        logPath = directory.appendingPathComponent("jobd.log").path
    }

    /// Starts jobd and waits (deadline 15 s) until its socket accepts connections.
    ///
    /// - Parameter launcher: A command that execs jobd (`ip netns exec NS`), or none.
    func start(_ arguments: [String] = [], environment: [String: String] = [:], launcher: [String] = [])
        async throws
    {
        let process = Process()
        let jobdArguments = ["--socket", socketPath, "--database", databasePath] + arguments
        if let first = launcher.first {
            process.executableURL = URL(fileURLWithPath: first)
            process.arguments = Array(launcher.dropFirst()) + [Binaries.jobd.path] + jobdArguments
        } else {
            process.executableURL = Binaries.jobd
            process.arguments = jobdArguments
        }
        // An installed /etc/jobd/jobd.yaml must not leak into tests: an empty config file.
        let configPath = directory.appendingPathComponent("jobd.yaml").path
        if !FileManager.default.fileExists(atPath: configPath) {
            _ = FileManager.default.createFile(atPath: configPath, contents: Data("# test: all defaults\n".utf8))
        }
        process.environment = ProcessInfo.processInfo.environment.merging(["JOBD_CONFIG": configPath]) { _, new in new }
            .merging(environment) { _, new in new }
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.standardError = log
        process.standardOutput = log
        process.standardInput = FileHandle.nullDevice
        exitStatus = nil
        // The log is appended to across restarts: wait for a new "jobd ready".
        let readyBefore = Self.readyCount(self.log())
        try await launch(process)
        self.process = process
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline {
            // Serving means bound and then given its mode and group: "jobd ready" is logged
            // after both (and READY=1 sent), while the socket answers from the bind on.
            if socketAnswers(socketPath), Self.readyCount(self.log()) > readyBefore { return }
            if !process.isRunning {
                throw DaemonFailed(
                    message: "jobd exited with \(process.terminationStatus) before serving:\n\(self.log())")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw DaemonFailed(message: "jobd did not serve on \(socketPath) within 15 s:\n\(self.log())")
    }

    /// Sends a signal and waits for the exit status (deadline 30 s).
    @discardableResult
    func stop(signal: Int32 = SIGTERM) async throws -> Int32 {
        guard let process else { return exitStatus ?? 0 }
        self.process = nil
        let exited = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { process in
            exited.continuation.yield(process.terminationStatus)
            exited.continuation.finish()
        }
        if process.isRunning { kill(process.processIdentifier, signal) }
        if !process.isRunning {
            exitStatus = process.terminationStatus
            return process.terminationStatus
        }
        let status = try await runToEnd(process, timeout: .seconds(30))
        exitStatus = status
        return status
    }

    /// Runs `jobctl --socket SOCK args...`.
    func jobctl(_ arguments: [String], stdin: String? = nil, timeout: Duration = .seconds(60)) async throws
        -> ProcessOutput
    {
        guard let first = arguments.first else { return try await run(Binaries.jobctl, arguments) }
        return try await run(
            Binaries.jobctl, [first, "--socket", socketPath] + arguments.dropFirst(), stdin: stdin, timeout: timeout)
    }

    /// Runs jobctl with `--json` and decodes its output.
    func jobctlJSON<T: Decodable>(_ type: T.Type, _ arguments: [String]) async throws -> T {
        let output = try await jobctl(arguments + ["--json"])
        do {
            return try JSONCodingForTests.decoder.decode(type, from: Data(output.stdout.utf8))
        } catch {
            Issue.record("cannot decode jobctl \(arguments) output: \(output)")
            throw error
        }
    }

    static func readyCount(_ log: String) -> Int {
        log.components(separatedBy: "jobd ready").count - 1
    }

    /// The daemon's log so far.
    func log() -> String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    func cleanUp() {
        if let process, process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: directory)
    }

    struct DaemonFailed: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}

/// Runs `body` with a started daemon (whose configuration file holds `config`, when
/// given); stops it with SIGTERM afterwards, expecting exit 0.
func withTestDaemon(
    config: String? = nil, _ arguments: [String] = [], _ body: (TestDaemon) async throws -> Void
) async throws {
    let daemon = try TestDaemon()
    defer { daemon.cleanUp() }
    if let config {
        try Data(config.utf8).write(to: daemon.directory.appendingPathComponent("jobd.yaml"))
    }
    try await daemon.start(arguments)
    do {
        try await body(daemon)
    } catch {
        Issue.record("daemon log:\n\(daemon.log())")
        throw error
    }
    let status = try await daemon.stop()
    #expect(status == 0, "jobd exit status after SIGTERM; log:\n\(daemon.log())")
    #expect(!FileManager.default.fileExists(atPath: daemon.socketPath), "jobd must remove its socket")
}

/// True when something accepts a connection on the Unix socket at `path`.
func socketAnswers(_ path: String) -> Bool {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { buffer in
        buffer.copyBytes(from: path.utf8.prefix(buffer.count - 1))
    }
    return withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
        }
    }
}

/// Sends one raw HTTP/1.1 request over the Unix socket, as curl --unix-socket would; gives
/// up on a read that waits longer than `timeout` seconds.
func rawHTTP(socketPath: String, _ request: String, timeout seconds: Int = 10) throws -> String {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EIO) }
    defer { close(fd) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { buffer in
        buffer.copyBytes(from: socketPath.utf8.prefix(buffer.count - 1))
    }
    let connected = withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
        }
    }
    guard connected else { throw POSIXError(.ECONNREFUSED) }
    var timeout = timeval(tv_sec: seconds, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    let bytes = Array(request.utf8)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    var response: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count <= 0 { break }
        response += buffer[0..<count]
    }
    return String(decoding: response, as: UTF8.self)
}

/// The body of a whole HTTP/1.1 response, chunked or not.
func httpBody(of response: String) -> String {
    guard let split = response.range(of: "\r\n\r\n") else { return "" }
    let head = response[..<split.lowerBound].lowercased()
    var rest = Substring(response[split.upperBound...])
    guard head.contains("transfer-encoding: chunked") else { return String(rest) }
    var body = ""
    while let line = rest.range(of: "\r\n"), let size = Int(rest[..<line.lowerBound], radix: 16), size > 0 {
        let start = line.upperBound
        let utf8 = rest.utf8
        let end = utf8.index(start, offsetBy: size)
        body += String(rest[start..<end])
        rest = rest[end...].dropFirst(2)
    }
    return body
}
