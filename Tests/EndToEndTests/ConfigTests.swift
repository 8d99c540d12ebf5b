import Foundation
import JobdModel
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The YAML configuration: lookup, precedence, validation (exit 78), SIGHUP reload.
@Suite struct ConfigTests {
    /// The checked-in example, every key at its default.
    static let exampleConfig = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Config/jobd.yaml").path

    /// Removes a file made by `writeConfig(_:)` and its directory.
    static func removeConfig(_ path: String) {
        try? FileManager.default.removeItem(at: URL(fileURLWithPath: path).deletingLastPathComponent())
    }

    /// Writes `text` to a new file in a new temporary directory and returns its path.
    static func writeConfig(_ text: String) throws -> String {
        let directory = URL(fileURLWithPath: "/tmp").appendingPathComponent("jc-" + UUID().uuidString.prefix(8))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("jobd.yaml").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Runs `jobd --check-config` with the arguments and environment given.
    static func checkConfig(_ arguments: [String], environment: [String: String] = [:]) async throws -> ProcessOutput {
        try await run(Binaries.jobd, ["--check-config"] + arguments, environment: environment, timeout: .seconds(30))
    }

    @Test("workers: -1 in the file stops the start with exit 78, naming the key and the file")
    func negativeWorkers() async throws {
        let path = try Self.writeConfig("workers: -1\n")
        defer { Self.removeConfig(path) }
        let output = try await run(
            Binaries.jobd, ["--config", path, "--socket", "/tmp/jd-unused-\(getpid()).sock"], timeout: .seconds(30))
        #expect(output.status == 78, "\(output)")
        #expect(
            output.stderr.contains("jobd: invalid configuration: workers: must be 1 to 100000, got -1 (in \(path))"),
            "\(output)")
    }

    @Test("an unknown key (a typo) stops the start with exit 78 and a suggestion")
    func unknownKey() async throws {
        let path = try Self.writeConfig("fetch:\n  timout: 5\n")
        defer { Self.removeConfig(path) }
        let output = try await run(Binaries.jobd, ["--config", path], timeout: .seconds(30))
        #expect(output.status == 78, "\(output)")
        #expect(
            output.stderr.contains("fetch.timout: unknown key (did you mean fetch.timeout?) (in \(path))"), "\(output)")
    }

    @Test(
        "bad values of each kind are refused with exit 78 and the key named",
        arguments: [
            ("socket:\n  mode: \"0999\"\n", "socket.mode"),
            ("socket:\n  mode: \"01777\"\n", "socket.mode"),
            ("database:\n  synchronous: sometimes\n", "database.synchronous"),
            ("limits:\n  fetch: 0\n", "limits.fetch"),
            ("fetch:\n  denied_networks: [\"10.0.0.0/8\", \"not-a-network\"]\n", "fetch.denied_networks"),
            ("fetch:\n  timeout: -5\n", "fetch.timeout"),
            ("retention: 7 days\n", "retention"),
            ("retry:\n  base: 10\n  cap: 5\n", "retry.cap"),
            ("access:\n  admin_group: no-such-group-here\n", "access.admin_group"),
            ("log:\n  format: xml\n", "log.format"),
            ("dashboard:\n  listen: 0.0.0.0:8080\n", "dashboard.listen"),
            ("dashboard:\n  listen: 127.0.0.1\n", "dashboard.listen"),
            ("workers: [1, 2]\n", "workers"),
            ("log: debug\n", "log"),
            ("workers: 4\n  bad indentation: [\n", "config"),
        ])
    func badValues(yaml: String, key: String) async throws {
        let path = try Self.writeConfig(yaml)
        defer { Self.removeConfig(path) }
        let output = try await Self.checkConfig(["--config", path])
        #expect(output.status == 78, "\(output)")
        #expect(output.stderr.hasPrefix("jobd: invalid configuration: \(key): "), "\(output)")
        #expect(output.stderr.contains("(in \(path))"), "\(output)")
    }

    @Test("a missing --config file is exit 78, and so is a bad JOBD_ variable; an unknown one is a warning")
    func missingFileAndEnvironment() async throws {
        let missing = try await Self.checkConfig(["--config", "/nonexistent/jobd.yaml"])
        #expect(missing.status == 78)
        #expect(missing.stderr.contains("config: cannot read /nonexistent/jobd.yaml"), "\(missing)")
        let typo = try await Self.checkConfig([], environment: ["JOBD_WORKRS": "4"])
        #expect(typo.status == 0, "\(typo)")
        #expect(
            typo.stderr == "jobd: warning: JOBD_WORKRS is not a jobd variable; ignored (did you mean JOBD_WORKERS?)\n",
            "\(typo)")
        let bad = try await Self.checkConfig([], environment: ["JOBD_FETCH_TIMEOUT": "soon"])
        #expect(bad.status == 78)
        #expect(bad.stderr.contains("fetch.timeout: \"soon\" is not a duration"), "\(bad)")
        #expect(bad.stderr.contains("(in JOBD_FETCH_TIMEOUT)"), "\(bad)")
        let flag = try await Self.checkConfig(["--workers", "many"])
        #expect(flag.status == 78)
        #expect(flag.stderr.contains("workers: \"many\" is not a whole number (in --workers)"), "\(flag)")
    }

    @Test(
        "a stranger's JOBD_REPO does not stop jobd: it starts and logs one warning; JOBD_WORKRES suggests JOBD_WORKERS")
    func strangerVariables() async throws {
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try await daemon.start([], environment: ["JOBD_REPO": "x", "JOBD_WORKRES": "3"])
        #expect(try await daemon.jobctl(["health"]).status == 0)
        #expect(try await daemon.stop() == 0)
        let warnings = daemon.log().split(separator: "\n").filter { $0.contains("level=warning") }
        #expect(warnings.filter { $0.contains("JOBD_REPO is not a jobd variable; ignored") }.count == 1, "\(warnings)")
        #expect(
            warnings.contains {
                $0.contains("JOBD_WORKRES is not a jobd variable; ignored (did you mean JOBD_WORKERS?)")
            },
            "\(warnings)")
    }

    @Test("precedence: flag over JOBD_ variable over file over default; JOBD_CONFIG finds the file")
    func precedence() async throws {
        let path = try Self.writeConfig("workers: 3\nfetch:\n  timeout: 12\n  denied_networks: [10.0.0.0/8]\n")
        defer { Self.removeConfig(path) }
        let fileOnly = try await Self.checkConfig([], environment: ["JOBD_CONFIG": path])
        #expect(fileOnly.status == 0, "\(fileOnly)")
        #expect(fileOnly.stdout.contains("workers: 3  # \(path)"), "\(fileOnly)")
        #expect(fileOnly.stdout.contains("  timeout: 12  # \(path)"), "\(fileOnly)")
        #expect(fileOnly.stdout.contains("  max_redirects: 10  # default"), "\(fileOnly)")
        let environment = try await Self.checkConfig(
            ["--config", path],
            environment: ["JOBD_WORKERS": "5", "JOBD_FETCH_DENIED_NETWORKS": "192.168.0.0/16, fd00::/8"])
        #expect(environment.stdout.contains("workers: 5  # JOBD_WORKERS"), "\(environment)")
        #expect(
            environment.stdout.contains(
                "  denied_networks: [\"192.168.0.0/16\", \"fd00::/8\"]  # JOBD_FETCH_DENIED_NETWORKS"),
            "\(environment)")
        let flag = try await Self.checkConfig(
            ["--config", path, "--workers", "7"], environment: ["JOBD_WORKERS": "5"])
        #expect(flag.stdout.contains("workers: 7  # --workers"), "\(flag)")
        // The older variable names still work.
        let alias = try await Self.checkConfig([], environment: ["JOBD_SOCKET": "/tmp/jd-alias.sock"])
        #expect(alias.stdout.contains("  path: \"/tmp/jd-alias.sock\"  # JOBD_SOCKET"), "\(alias)")
    }

    @Test("the example config checks cleanly, every key at its default, and a daemon starts with it")
    func exampleConfig() async throws {
        let check = try await Self.checkConfig(["--config", Self.exampleConfig])
        #expect(check.status == 0, "\(check)")
        let defaults = try await Self.checkConfig([], environment: ["JOBD_CONFIG": "/dev/null"])
        #expect(defaults.status == 0, "\(defaults)")
        // Same values as no file at all (only the comments naming the source differ).
        func values(_ text: String) -> [String] {
            text.split(separator: "\n").dropFirst().map { $0.components(separatedBy: "  #")[0] }
        }
        #expect(values(check.stdout) == values(defaults.stdout))
        // The output is itself a valid configuration file.
        let effective = try Self.writeConfig(check.stdout)
        defer { Self.removeConfig(effective) }
        let roundTrip = try await Self.checkConfig(["--config", effective])
        #expect(roundTrip.status == 0, "\(roundTrip)")
        try await withTestDaemon(["--config", Self.exampleConfig]) { daemon in
            #expect(try await daemon.jobctl(["health"]).status == 0)
            let submit = try await daemon.jobctl(["submit", "delay", "0", "--value", "\"ok\"", "--wait"])
            #expect(submit.stdout == "ok\n", "\(submit)")
        }
    }

    @Test("SIGHUP applies workers and log.level live and names the keys that need a restart")
    func reload() async throws {
        let path = try Self.writeConfig("workers: 2\n")
        defer { Self.removeConfig(path) }
        try await withTestDaemon(["--config", path]) { daemon in
            let before = try await daemon.jobctlJSON(StatsResponse.self, ["stats"])
            #expect(before.workers == 2)
            try Data("workers: 5\nlog:\n  level: debug\nfetch:\n  timeout: 9\n".utf8).write(
                to: URL(fileURLWithPath: path))
            kill(try #require(daemon.process).processIdentifier, SIGHUP)
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline, !daemon.log().contains("configuration reloaded") {
                try await Task.sleep(for: .milliseconds(20))
            }
            let log = daemon.log()
            #expect(log.contains("config.applied=\"workers: 2 -> 5; log.level: info -> debug\""), "\(log)")
            #expect(log.contains("config.restart_needed=\"fetch.timeout: 30 -> 9\""), "\(log)")
            let after = try await daemon.jobctlJSON(StatsResponse.self, ["stats"])
            #expect(after.workers == 5)
            // A broken file is refused; the daemon keeps running with what it has.
            try Data("workers: lots\n".utf8).write(to: URL(fileURLWithPath: path))
            kill(try #require(daemon.process).processIdentifier, SIGHUP)
            while ContinuousClock.now < deadline, !daemon.log().contains("reload refused") {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(daemon.log().contains("reload refused, the running configuration stays"), "\(daemon.log())")
            #expect(try await daemon.jobctl(["health"]).status == 0)
        }
    }

    @Test("log.format json writes one JSON object per line")
    func jsonLogs() async throws {
        let path = try Self.writeConfig("log:\n  format: json\n")
        defer { Self.removeConfig(path) }
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try await daemon.start(["--config", path])
        #expect(try await daemon.stop() == 0)
        // Only the log handler's lines: stray debugging output on stderr is not a log line.
        let lines = daemon.log().split(separator: "\n").filter { $0.hasPrefix("{") || $0.hasPrefix("ts=") }
        #expect(lines.count >= 2, "\(daemon.log())")
        for line in lines {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["ts"] is String && object?["level"] is String && object?["msg"] is String, "\(line)")
        }
        #expect(lines.contains { $0.contains("\"msg\":\"jobd ready\"") })
    }
}
