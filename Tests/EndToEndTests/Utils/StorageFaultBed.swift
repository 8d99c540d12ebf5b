import Foundation
import Hummingbird
import JobdModel
import NIOCore
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A `TestDaemon` whose database directory the test can break: a small tmpfs that fills
/// up, an ext4 image whose file system goes read-only, immutable files.
///
/// Everything it sets up is undone by `tearDown()` (synchronous, for a `defer`): the
/// daemon and helper processes are killed and reaped, immutable flags cleared, the file
/// systems unmounted, then the temporary directory removed.
final class StorageFaultBed: @unchecked Sendable {
    let daemon: TestDaemon
    /// The directory holding the database, its `-wal`, `-shm` and `.lock` files.
    var databaseDirectory: String { (daemon.databasePath as NSString).deletingLastPathComponent }
    private var mountPoint: String?
    private var immutablePaths: [String] = []
    private var helpers: [Process] = []

    init() throws {
        daemon = try TestDaemon()
        try FileManager.default.createDirectory(atPath: databaseDirectory, withIntermediateDirectories: true)
    }

    /// True when the tests run as root (mounting, `chattr`).
    static var isRoot: Bool { geteuid() == 0 }

    /// Mounts a tmpfs of `size` (`8m`) on the database directory, or cancels the test.
    func mountTmpfs(size: String) throws {
        let mounted = Self.tool(
            "/usr/bin/mount", ["-t", "tmpfs", "-o", "size=\(size),mode=0700", "tmpfs", databaseDirectory])
        guard mounted.status == 0 else { try Test.cancel("cannot mount a tmpfs: \(mounted.output)") }
        mountPoint = databaseDirectory
    }

    /// Formats an image file (in the daemon's directory) as ext4 and mounts it on the
    /// database directory with `errors=remount-ro`; returns the image and the file system's
    /// `trigger_fs_error` file. Cancels the test when loop devices or ext4 are not available.
    func mountExt4Image(megabytes: Int) throws -> (image: String, trigger: String) {
        let image = daemon.directory.appendingPathComponent("fs.img").path
        guard FileManager.default.createFile(atPath: image, contents: nil), truncate(image, off_t(megabytes) << 20) == 0
        else { try Test.cancel("cannot create the image file \(image)") }
        let formatted = Self.tool("/usr/sbin/mkfs.ext4", ["-q", "-F", image])
        guard formatted.status == 0 else { try Test.cancel("mkfs.ext4 failed: \(formatted.output)") }
        try mountExt4(image)
        let source = Self.tool("/usr/bin/findmnt", ["-n", "-o", "SOURCE", databaseDirectory]).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let trigger = "/sys/fs/ext4/\((source as NSString).lastPathComponent)/trigger_fs_error"
        guard FileManager.default.isWritableFile(atPath: trigger) else {
            try Test.cancel("ext4 on \(source) has no writable \(trigger)")
        }
        return (image, trigger)
    }

    /// Mounts the ext4 `image` (loop, `errors=remount-ro`) on the database directory.
    func mountExt4(_ image: String) throws {
        let mounted = Self.tool("/usr/bin/mount", ["-o", "loop,errors=remount-ro", image, databaseDirectory])
        guard mounted.status == 0 else { try Test.cancel("cannot loop-mount an ext4 image: \(mounted.output)") }
        mountPoint = databaseDirectory
    }

    /// Unmounts the database directory's file system (the daemon must have stopped).
    func unmount() {
        guard let mountPoint else { return }
        // A process that just exited may still hold the mount for an instant.
        for _ in 0..<100 {
            if Self.tool("/usr/bin/umount", [mountPoint]).status == 0 {
                self.mountPoint = nil
                return
            }
            usleep(50_000)
        }
        Issue.record("cannot unmount \(mountPoint)")
    }

    /// Cancels the test unless `chattr +i` works on the database directory's file system.
    func requireChattr() throws {
        let probe = databaseDirectory + "/probe"
        _ = FileManager.default.createFile(atPath: probe, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: probe) }
        let set = Self.tool("/usr/bin/chattr", ["+i", probe])
        guard set.status == 0 else { try Test.cancel("chattr +i does not work here: \(set.output)") }
        _ = Self.tool("/usr/bin/chattr", ["-i", probe])
    }

    /// Sets (or clears) the immutable attribute: even root cannot open the file for writing.
    func setImmutable(_ paths: [String], _ on: Bool) throws {
        let changed = Self.tool("/usr/bin/chattr", [on ? "+i" : "-i"] + paths)
        try #require(changed.status == 0, "chattr: \(changed.output)")
        if on { immutablePaths += paths } else { immutablePaths.removeAll { paths.contains($0) } }
    }

    /// Starts a helper process (killed and reaped in `tearDown`).
    func launch(_ process: Process) throws {
        try process.run()
        helpers.append(process)
    }

    func tearDown() {
        var processes = helpers
        if let process = daemon.process { processes.append(process) }
        for process in processes where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
        let deadline = Date().addingTimeInterval(10)
        while processes.contains(where: \.isRunning), Date() < deadline { usleep(10_000) }
        if !immutablePaths.isEmpty { _ = Self.tool("/usr/bin/chattr", ["-i"] + immutablePaths) }
        unmount()
        daemon.cleanUp()
    }

    /// Runs a system tool to its end and returns its status and combined output. Blocking:
    /// for quick set-up and tear-down steps only.
    @discardableResult
    static func tool(_ path: String, _ arguments: [String]) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return (-1, "\(path): \(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Fills the file system of `directory` with a file until a write fails with ENOSPC,
    /// then gives `leaving` bytes back. Returns the filler's path; deleting it frees the space.
    func fill(leaving: Int) throws -> String {
        let path = databaseDirectory + "/filler"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        try #require(fd >= 0, "cannot create \(path)")
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0x5A, count: 65536)
        var size = 0
        while true {
            let written = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written > 0 {
                size += written
                continue
            }
            try #require(written < 0 && errno == ENOSPC, "the filler stopped at \(size) bytes: errno \(errno)")
            break
        }
        try #require(ftruncate(fd, off_t(max(0, size - leaving))) == 0)
        return path
    }

    /// Bytes free on the database directory's file system.
    func freeBytes() -> Int {
        var stats = statvfs()
        guard statvfs(databaseDirectory, &stats) == 0 else { return -1 }
        return Int(stats.f_bavail) * Int(stats.f_frsize)
    }

    /// The size of a file beside the database (`-wal`), or 0.
    func size(of suffix: String) -> Int {
        let attributes = try? FileManager.default.attributesOfItem(atPath: daemon.databasePath + suffix)
        return (attributes?[.size] as? Int) ?? 0
    }
}

extension TestDaemon {
    /// Sends one request over the socket off the cooperative pool (a submit may wait
    /// seconds for a lock) and returns the answer and how long it took.
    func request(_ method: String, _ path: String, body: String? = nil) async throws -> (SocketAnswer, Duration) {
        let socketPath = socketPath
        var text = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        if let body {
            text += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        } else {
            text += "\r\n"
        }
        let started = ContinuousClock.now
        let message = text
        let raw: String = try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try rawHTTP(socketPath: socketPath, message) })
            }
        }
        return (SocketAnswer(raw: raw), ContinuousClock.now - started)
    }

    /// Submits one delay job (`seconds`, a string `value`).
    func submitDelay(_ value: String, seconds: Double = 0) async throws -> (SocketAnswer, Duration) {
        try await request("POST", "/v1/jobs", body: #"{"kind":"delay","seconds":\#(seconds),"value":"\#(value)"}"#)
    }

    /// The job's record, read from the database through the API.
    func job(_ id: JobID) async throws -> JobRecord {
        let (answer, _) = try await request("GET", "/v1/jobs/\(id)")
        try #require(answer.status == 200, "GET /v1/jobs/\(id): \(answer)")
        return try answer.record()
    }

    /// Waits (deadline `within`) until every job is finished; returns their records.
    func waitFinished(_ ids: [JobID], within: Duration) async throws -> [JobID: JobRecord] {
        let deadline = ContinuousClock.now + within
        var records: [JobID: JobRecord] = [:]
        for id in ids {
            while true {
                let record = try await job(id)
                if record.state.isTerminal {
                    records[id] = record
                    break
                }
                try #require(ContinuousClock.now < deadline, "job \(id) is still \(record.state) after \(within)")
                let (answer, _) = try await request("GET", "/v1/jobs/\(id)/wait?timeout=1")
                try #require(answer.status == 200, "wait \(id): \(answer)")
            }
        }
        return records
    }

    /// Waits (deadline `within`) for a log line after the byte `offset` that satisfies
    /// `matches`; returns it, or nil at the deadline.
    func waitForLogLine(after offset: Int, within: Duration, _ matches: (String) -> Bool) async throws -> String? {
        let deadline = ContinuousClock.now + within
        while ContinuousClock.now < deadline {
            let text = String(decoding: Data(log().utf8).dropFirst(offset), as: UTF8.self)
            if let line = text.split(separator: "\n").map(String.init).first(where: matches) { return line }
            try await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// The log's size in bytes: an offset for `waitForLogLine`.
    var logOffset: Int { log().utf8.count }

    /// True while the jobd process runs (no crash so far).
    var isRunning: Bool { process?.isRunning == true }
}

/// The `N` of the dispatcher's "keeping N ends in memory" log line.
func keptEnds(_ line: String) -> Int? {
    guard let range = line.range(of: "keeping ") else { return nil }
    return Int(line[range.upperBound...].prefix { $0.isNumber })
}

/// Fetch targets that hold their answer until the test opens the gate: `/hold/{n}`
/// answers 200 `released {n}` once `open()` was called. Jobs fetching it stay running for
/// as long as the test wants, with no timing guess.
final class HoldGate: Sendable {
    private let state = Mutex((arrived: 0, answered: 0, isOpen: false))
    let port: Int
    var base: String { "http://127.0.0.1:\(port)" }

    init(port: Int) { self.port = port }

    var arrived: Int { state.withLock { $0.arrived } }
    var answered: Int { state.withLock { $0.answered } }
    func open() { state.withLock { $0.isOpen = true } }

    fileprivate func hold() async throws {
        state.withLock { $0.arrived += 1 }
        while !state.withLock({ $0.isOpen }) { try await Task.sleep(for: .milliseconds(5)) }
        state.withLock { $0.answered += 1 }
    }

    /// Waits (deadline `within`) until `condition` holds.
    func wait(within: Duration, _ condition: (HoldGate) -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + within
        while !condition(self) {
            if ContinuousClock.now >= deadline { return false }
            try await Task.sleep(for: .milliseconds(10))
        }
        return true
    }
}

/// Runs `body` with a `HoldGate` server on 127.0.0.1.
func withHoldGate(_ body: (HoldGate) async throws -> Void) async throws {
    let ports = AsyncStream<Int>.makeStream()
    let gateBox = Mutex<HoldGate?>(nil)
    let router = Router()
    router.get("/hold/:n") { _, context -> String in
        let n = context.parameters.get("n") ?? ""
        guard let gate = gateBox.withLock({ $0 }) else { return "no gate" }
        try await gate.hold()
        return "released \(n)"
    }
    let app = Application(
        router: router,
        configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in
            ports.continuation.yield(channel.localAddress?.port ?? 0)
            ports.continuation.finish()
        })
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await app.runService(gracefulShutdownSignals: []) }
        var port = 0
        for await value in ports.stream { port = value }
        try #require(port > 0)
        let gate = HoldGate(port: port)
        gateBox.withLock { $0 = gate }
        defer { gate.open() }
        do {
            try await body(gate)
        } catch {
            group.cancelAll()
            throw error
        }
        group.cancelAll()
    }
}

/// A process that holds SQLite's write lock on a database (`BEGIN EXCLUSIVE` from
/// Python's sqlite3) until `release()`, standing in for another program (a backup, a
/// `sqlite3` shell) that keeps a transaction open.
final class LockHolder: @unchecked Sendable {
    let process = Process()
    private let input = Pipe()
    private let outputPath: String

    /// Python 3 on `PATH`, or nil.
    static var python: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/python3" }.first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    static let script = """
        import sqlite3, sys
        db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
        db.execute("BEGIN EXCLUSIVE")
        print("locked", flush=True)
        sys.stdin.readline()
        db.execute("COMMIT")
        print("released", flush=True)
        """

    init(python: String, database: String, directory: URL) throws {
        let scriptPath = directory.appendingPathComponent("lock.py").path
        try Data(Self.script.utf8).write(to: URL(fileURLWithPath: scriptPath))
        outputPath = directory.appendingPathComponent("lock.out").path
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [scriptPath, database]
        process.standardInput = input
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.standardOutput = output
        process.standardError = output
    }

    var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

    /// Waits (deadline `within`) until the helper printed `word`.
    func wait(for word: String, within: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + within
        while !output.contains(word) {
            if ContinuousClock.now >= deadline || !process.isRunning && !output.contains(word) {
                return output.contains(word)
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return true
    }

    func release() {
        input.fileHandleForWriting.write(Data("release\n".utf8))
    }
}
