import Foundation
import JobdStore
import Testing

@testable import JobdDaemon

/// One key set in every source, and how each source's value renders.
struct PrecedenceCase: Sendable, CustomTestStringConvertible {
    /// The key.
    var key: String
    /// The value in the file, as a YAML literal.
    var file: String
    /// The value of the `JOBD_*` variable.
    var environment: String
    /// The value of the flag; nil when the key has none.
    var flag: String?
    /// How the file's, the variable's and the flag's value render.
    var rendered: (file: String, environment: String, flag: String?)

    var testDescription: String { key }

    static let all: [PrecedenceCase] = [
        PrecedenceCase(key: "workers", file: "3", environment: "5", flag: "7", rendered: ("3", "5", "7")),
        PrecedenceCase(key: "grace", file: "1", environment: "2.5", flag: "90s", rendered: ("1", "2.5", "90")),
        PrecedenceCase(
            key: "log.level", file: "debug", environment: "warning", flag: "error",
            rendered: ("debug", "warning", "error")),
        PrecedenceCase(
            key: "database.synchronous", file: "normal", environment: "full", flag: "normal",
            rendered: ("normal", "full", "normal")),
        PrecedenceCase(
            key: "socket.path", file: "/tmp/jd-file.sock", environment: "/tmp/jd-env.sock", flag: "/tmp/jd-flag.sock",
            rendered: ("\"/tmp/jd-file.sock\"", "\"/tmp/jd-env.sock\"", "\"/tmp/jd-flag.sock\"")),
        PrecedenceCase(
            key: "database.path", file: "/tmp/jd-file.sqlite", environment: "/tmp/jd-env.sqlite",
            flag: "/tmp/jd-flag.sqlite",
            rendered: ("\"/tmp/jd-file.sqlite\"", "\"/tmp/jd-env.sqlite\"", "\"/tmp/jd-flag.sqlite\"")),
        PrecedenceCase(
            key: "fetch.timeout", file: "12", environment: "500ms", flag: nil, rendered: ("12", "0.5", nil)),
        PrecedenceCase(
            key: "fetch.denied_networks", file: "[10.0.0.0/8]", environment: "192.168.0.0/16, fd00::/8", flag: nil,
            rendered: ("[\"10.0.0.0/8\"]", "[\"192.168.0.0/16\", \"fd00::/8\"]", nil)),
        PrecedenceCase(key: "max_queued", file: "10", environment: "null", flag: nil, rendered: ("10", "null", nil)),
    ]
}

/// `DaemonConfiguration.load(_:)`: precedence, sources, default paths.
@Suite struct DaemonConfigurationTests {
    @Test(
        "precedence: flag over JOBD_ variable over file over default, and each value's source",
        arguments: PrecedenceCase.all)
    func precedence(_ precedence: PrecedenceCase) throws {
        let key = try #require(ConfigurationKey.named(precedence.key))
        try withConfigurationFixture { fixture in
            let none = try fixture.load()
            #expect(none.origins[key.name]?.hasPrefix("default") == true)

            let path = try fixture.writeFile(ConfigurationFixture.yaml(key.name, precedence.file))
            let file = try fixture.load(configPath: path)
            #expect(key.render(file.configuration) == precedence.rendered.file)
            #expect(file.origins[key.name] == path)

            let variables = [key.environmentName: precedence.environment]
            let environment = try fixture.load(configPath: path, environment: variables)
            #expect(key.render(environment.configuration) == precedence.rendered.environment)
            #expect(environment.origins[key.name] == key.environmentName)

            guard let flagValue = precedence.flag, let flagName = key.flag else { return }
            let flag = try fixture.load(flags: [key.name: flagValue], configPath: path, environment: variables)
            #expect(key.render(flag.configuration) == precedence.rendered.flag)
            #expect(flag.origins[key.name] == flagName)
        }
    }

    @Test("with no source at all every key has its default, credited to the default")
    func defaults() throws {
        try withConfigurationFixture { fixture in
            let loaded = try fixture.load()
            for key in ConfigurationKey.all where !["socket.path", "database.path"].contains(key.name) {
                #expect(key.render(loaded.configuration) == key.render(.defaults), "\(key.name)")
                #expect(loaded.origins[key.name] == "default", "\(key.name)")
            }
        }
    }

    @Test("a bad value is refused even where a higher source overrides it")
    func overriddenValuesAreChecked() throws {
        try withConfigurationFixture { fixture in
            let path = try fixture.writeFile("workers: -1\n")
            let file = try #require(throws: ConfigurationError.self) {
                try fixture.load(flags: ["workers": "4"], configPath: path, environment: ["JOBD_WORKERS": "5"])
            }
            #expect("\(file)" == "invalid configuration: workers: must be 1 to 100000, got -1 (in \(path))")
            let environment = try #require(throws: ConfigurationError.self) {
                try fixture.load(flags: ["workers": "4"], environment: ["JOBD_WORKERS": "lots"])
            }
            #expect(
                "\(environment)" == "invalid configuration: workers: \"lots\" is not a whole number (in JOBD_WORKERS)")
        }
    }

    @Test("the older variable names still work, below the systematic ones")
    func aliases() throws {
        try withConfigurationFixture { fixture in
            let alias = try fixture.load(environment: [
                "JOBD_SOCKET": "/tmp/jd-alias.sock", "JOBD_DATABASE": "/tmp/jd-alias.sqlite",
                "JOBD_SYNCHRONOUS": "normal",
            ])
            #expect(alias.configuration.socketPath == "/tmp/jd-alias.sock")
            #expect(alias.origins["socket.path"] == "JOBD_SOCKET")
            #expect(alias.configuration.databasePath == "/tmp/jd-alias.sqlite")
            #expect(alias.origins["database.path"] == "JOBD_DATABASE")
            #expect(alias.configuration.synchronous == .normal)
            #expect(alias.origins["database.synchronous"] == "JOBD_SYNCHRONOUS")
            let both = try fixture.load(environment: [
                "JOBD_SOCKET": "/tmp/jd-alias.sock", "JOBD_SOCKET_PATH": "/tmp/jd-systematic.sock",
            ])
            #expect(both.configuration.socketPath == "/tmp/jd-systematic.sock")
            #expect(both.origins["socket.path"] == "JOBD_SOCKET_PATH")
        }
    }

    @Test("an empty JOBD_ variable counts as unset")
    func emptyVariable() throws {
        try withConfigurationFixture { fixture in
            let path = try fixture.writeFile("workers: 3\n")
            let loaded = try fixture.load(configPath: path, environment: ["JOBD_WORKERS": ""])
            #expect(loaded.configuration.workers == 3)
            #expect(loaded.origins["workers"] == path)
        }
    }

    @Test("--config wins over JOBD_CONFIG, which names the file otherwise")
    func fileLookup() throws {
        try withConfigurationFixture { fixture in
            let named = try fixture.writeFile("workers: 3\n", named: "named.yaml")
            let variable = try fixture.writeFile("workers: 4\n", named: "variable.yaml")
            let byVariable = try fixture.load(environment: ["JOBD_CONFIG": variable])
            #expect(byVariable.configuration.workers == 4)
            #expect(byVariable.file == variable)
            let byFlag = try fixture.load(configPath: named, environment: ["JOBD_CONFIG": variable])
            #expect(byFlag.configuration.workers == 3)
            #expect(byFlag.file == named)
        }
    }

    @Test("the default paths: the user's XDG directories, root's, and systemd's directories")
    func defaultPaths() throws {
        try withConfigurationFixture { fixture in
            let user = try fixture.load()
            #expect(user.configuration.socketPath == "/run/user/1000/jobd/jobd.sock")
            #expect(user.configuration.databasePath == "/home/tester/.state/jobd/jobd.sqlite")
            #expect(user.origins["socket.path"] == "default")
            let root = try fixture.load(uid: 0)
            #expect(root.configuration.socketPath == "/run/jobd/jobd.sock")
            #expect(root.configuration.databasePath == "/var/lib/jobd/jobd.sqlite")
            let systemd = try fixture.load(environment: [
                "RUNTIME_DIRECTORY": "/run/jobd:/run/other", "STATE_DIRECTORY": "/var/lib/jobd",
            ])
            #expect(systemd.configuration.socketPath == "/run/jobd/jobd.sock")
            #expect(systemd.origins["socket.path"] == "default, from RUNTIME_DIRECTORY")
            #expect(systemd.configuration.databasePath == "/var/lib/jobd/jobd.sqlite")
            #expect(systemd.origins["database.path"] == "default, from STATE_DIRECTORY")
        }
    }

    @Test("a default socket path too long for sun_path is refused naming where it came from")
    func defaultSocketPathTooLong() throws {
        let directory = "/" + String(repeating: "r", count: 100)
        try withConfigurationFixture { fixture in
            let error = try #require(throws: ConfigurationError.self) {
                try fixture.load(environment: ["RUNTIME_DIRECTORY": directory])
            }
            #expect(
                "\(error)"
                    == "invalid configuration: socket.path: \(directory)/jobd.sock is 111 bytes; a Unix socket path "
                    + "holds at most 107 (in default, from RUNTIME_DIRECTORY)")
        }
    }
}
