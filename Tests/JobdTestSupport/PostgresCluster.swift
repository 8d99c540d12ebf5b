import Foundation

/// A private PostgreSQL cluster for tests: `initdb` in a temporary directory, its own port
/// on 127.0.0.1 and its own socket directory, `fsync=on`, trust authentication for the
/// superuser `jobd`. Started by the current user, or by the unprivileged `postgres` user
/// when the tests run as root (the server refuses to run as root).
///
/// Nothing here uses a system cluster. A missing PostgreSQL is an error, never a skip:
/// install Debian's `postgresql` package (`.ci/run` does), or point `JOBD_PG_BIN` at the
/// directory holding `initdb` and `pg_ctl`.
public final class PostgresCluster: Sendable {
    /// The cluster's directory (data, socket, log).
    public let directory: String
    /// The TCP port on 127.0.0.1.
    public let port: Int
    let bin: String
    let runAs: String?

    /// The socket directory.
    public var socketDirectory: String { directory + "/sock" }
    /// The server log.
    public var logPath: String { directory + "/server.log" }

    /// A URL of database `name` over TCP.
    public func url(database name: String) -> String {
        "postgres://jobd@127.0.0.1:\(port)/\(name)?sslmode=disable"
    }

    /// Creates and starts a new cluster.
    ///
    /// - Parameters:
    ///   - alsoListenOn: Addresses to listen on besides 127.0.0.1 (a test's veth).
    ///   - trustedClients: Client networks (CIDR) let in without a password besides loopback.
    /// - Throws: `ClusterError` naming what is missing or what failed, with the log.
    public static func start(alsoListenOn: [String] = [], trustedClients: [String] = []) async throws
        -> PostgresCluster
    {
        let bin = try findBin()
        let directory = try makeDirectory()
        let runAs: String? = getuid() == 0 ? "postgres" : nil
        if let runAs {
            try await run("/usr/bin/chown", ["-R", runAs, directory])
        }
        let port = try freePort()
        let cluster = PostgresCluster(directory: directory, port: port, bin: bin, runAs: runAs)
        try await cluster.tool(
            "initdb", ["-D", directory + "/data", "-U", "jobd", "--auth=trust", "-E", "UTF8", "--no-sync"])
        let settings = """
            listen_addresses = '\((["127.0.0.1"] + alsoListenOn).joined(separator: ","))'
            port = \(port)
            unix_socket_directories = '\(directory)/sock'
            fsync = on
            max_connections = 300
            shared_buffers = 128MB
            log_min_messages = warning
            """
        try (settings + "\n").write(
            toFile: directory + "/data/postgresql.auto.conf", atomically: false, encoding: .utf8)
        if !trustedClients.isEmpty {
            let hba = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/data/pg_hba.conf"))
            hba.seekToEndOfFile()
            hba.write(Data(trustedClients.map { "host all all \($0) trust\n" }.joined().utf8))
            try hba.close()
        }
        try FileManager.default.createDirectory(atPath: directory + "/sock", withIntermediateDirectories: true)
        if let runAs { try await run("/usr/bin/chown", ["-R", runAs, directory]) }
        try await cluster.pgctl(["start", "-w", "-t", "60"])
        return cluster
    }

    init(directory: String, port: Int, bin: String, runAs: String?) {
        self.directory = directory
        self.port = port
        self.bin = bin
        self.runAs = runAs
    }

    /// Creates an empty database.
    public func createDatabase(_ name: String) async throws {
        try await tool(
            "psql",
            [
                "-h", socketDirectory, "-p", "\(port)", "-U", "jobd", "-d", "postgres", "-qAt",
                "-v", "ON_ERROR_STOP=1", "-c", "CREATE DATABASE \(name)",
            ])
    }

    /// Runs SQL with psql and returns its output (unaligned, tuples only).
    @discardableResult
    public func psql(_ database: String, _ sql: String) async throws -> String {
        try await tool(
            "psql",
            [
                "-h", socketDirectory, "-p", "\(port)", "-U", "jobd", "-d", database, "-qAt",
                "-v", "ON_ERROR_STOP=1", "-c", sql,
            ])
    }

    /// `pg_ctl restart -m fast`.
    public func restart() async throws {
        try await pgctl(["restart", "-m", "fast", "-w", "-t", "60"])
    }

    /// `pg_ctl stop -m fast`: the server is down until `startAgain()`.
    public func stop() async throws {
        try await pgctl(["stop", "-m", "fast", "-w", "-t", "60"])
    }

    /// Starts a stopped server on the same directory and port.
    public func startAgain() async throws {
        try await pgctl(["start", "-w", "-t", "60"])
    }

    /// Stops the server (fast) and removes the directory.
    public func destroy() async {
        _ = try? await pgctl(["stop", "-m", "fast", "-w", "-t", "30"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    func pgctl(_ arguments: [String]) async throws {
        try await tool("pg_ctl", ["-D", directory + "/data", "-l", logPath, "-s"] + arguments)
    }

    @discardableResult
    func tool(_ name: String, _ arguments: [String]) async throws -> String {
        let path = bin + "/" + name
        do {
            if let runAs {
                return try await Self.run("/usr/sbin/runuser", ["-u", runAs, "--", path] + arguments)
            }
            return try await Self.run(path, arguments)
        } catch let error as ClusterError {
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            throw ClusterError("\(error.message)\nserver log:\n\(log.suffix(4000))")
        }
    }

    static func findBin() throws -> String {
        if let bin = ProcessInfo.processInfo.environment["JOBD_PG_BIN"] { return bin }
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap(Int.init).sorted()
        guard let newest = versions.last, FileManager.default.fileExists(atPath: "\(root)/\(newest)/bin/initdb") else {
            throw ClusterError(
                "PostgreSQL is not installed: no \(root)/*/bin/initdb. Install Debian's postgresql package "
                    + "(apt-get install postgresql) or set JOBD_PG_BIN to the directory holding initdb and pg_ctl")
        }
        return "\(root)/\(newest)/bin"
    }

    static func makeDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "jobd-pg-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(
            atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        return path
    }

    /// A port that was free a moment ago on 127.0.0.1.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ClusterError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw ClusterError("cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Runs a program to its end without blocking a cooperative thread.
    ///
    /// posix_spawn and waitpid on a thread of their own, output into a file: Foundation's
    /// `Process` notices an exit only when every descendant has closed what the child
    /// inherited, and `pg_ctl start` leaves the server running with it.
    @discardableResult
    static func run(_ path: String, _ arguments: [String]) async throws -> String {
        let outputPath = NSTemporaryDirectory() + "jobd-pg-output-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try spawnAndWait(path, arguments, output: outputPath) })
            }
        }
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        guard status == 0 else {
            throw ClusterError("\(path) \(arguments.joined(separator: " ")) exited \(status): \(text)")
        }
        return text
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), which the Glibc
    /// module does not import.
    private static let closeFromAction:
        (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
            else { return nil }
            return unsafeBitCast(
                symbol,
                to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
        }()

    private static func spawnAndWait(_ path: String, _ arguments: [String], output: String) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of the test process: pg_ctl's server would inherit every open
        // descriptor (a busy test process has thousands), and PostgreSQL refuses to start
        // when too few are left under its limit ("insufficient file descriptors").
        if let closeFrom = closeFromAction { _ = closeFrom(&actions, 3) }
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, environ)
        guard spawned == 0 else { throw ClusterError("cannot run \(path): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // WIFEXITED / WEXITSTATUS, spelled out (the C macros do not import).
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}

/// A failure to set up or drive a test cluster.
public struct ClusterError: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
