import Foundation
import Testing

@testable import JobdDaemon

/// One key's good and bad value, and what jobd makes of each.
struct KeyCase: Sendable, CustomTestStringConvertible {
    /// The key.
    var key: String
    /// A value it accepts, as a YAML literal.
    var good: String
    /// `good` as `--check-config` renders it.
    var rendered: String
    /// A value it refuses, as a YAML literal.
    var bad: String
    /// The same bad value as a `JOBD_*` variable or flag holds it.
    var badText: String
    /// The reason the error gives.
    var reason: String

    var testDescription: String { key }

    /// Every key of `ConfigurationKey.all`, in its order.
    static let all: [KeyCase] = [
        KeyCase(
            key: "socket.path", good: "/tmp/jd-test.sock", rendered: "\"/tmp/jd-test.sock\"",
            bad: "/tmp/" + String(repeating: "s", count: 103), badText: "/tmp/" + String(repeating: "s", count: 103),
            reason: "/tmp/\(String(repeating: "s", count: 103)) is 108 bytes; a Unix socket path holds at most 107"),
        KeyCase(
            key: "socket.mode", good: "\"0640\"", rendered: "\"0640\"", bad: "\"0999\"", badText: "0999",
            reason: "\"0999\" is not an octal mode like \"0660\""),
        KeyCase(
            key: "socket.group", good: "root", rendered: "\"root\"", bad: "no-such-group-jd",
            badText: "no-such-group-jd", reason: "no group is named \"no-such-group-jd\""),
        KeyCase(
            key: "server.max_connections", good: "100", rendered: "100", bad: "0", badText: "0",
            reason: "must be 1 to 1000000, got 0"),
        KeyCase(
            key: "server.max_connections_per_uid", good: "8", rendered: "8", bad: "x", badText: "x",
            reason: "\"x\" is not a whole number"),
        KeyCase(
            key: "server.idle_timeout", good: "90s", rendered: "90", bad: "50ms", badText: "50ms",
            reason: "must be 100ms to 1d, got 50ms"),
        KeyCase(
            key: "server.request_head_timeout", good: "null", rendered: "null", bad: "2h", badText: "2h",
            reason: "must be 100ms to 1h, got 2h"),
        KeyCase(
            key: "database.path", good: "/tmp/jd.sqlite", rendered: "\"/tmp/jd.sqlite\"", bad: "[a, b]",
            badText: "", reason: "expected a single value, not a list"),
        KeyCase(
            key: "database.synchronous", good: "NORMAL", rendered: "normal", bad: "sometimes", badText: "sometimes",
            reason: "must be one of full, normal, got \"sometimes\""),
        KeyCase(
            key: "database.url", good: "postgres://jobd:pw@db.example/jobs",
            rendered: "\"postgres://jobd:****@db.example:5432/jobs\"",
            bad: "mysql://x@y/z", badText: "mysql://x@y/z",
            reason: "the URL has the scheme mysql://; jobd speaks postgres:// (or postgresql://)"),
        KeyCase(
            key: "database.password_file", good: "/run/credentials/jobd.service/pg",
            rendered: "\"/run/credentials/jobd.service/pg\"",
            bad: "[a, b]", badText: "", reason: "expected a single value, not a list"),
        KeyCase(
            key: "database.pool_size", good: "20", rendered: "20", bad: "0", badText: "0",
            reason: "must be 1 to 1000, got 0"),
        KeyCase(
            key: "node.name", good: "web-1", rendered: "\"web-1\"", bad: "[a, b]", badText: "",
            reason: "expected a single value, not a list"),
        KeyCase(
            key: "node.lease", good: "30s", rendered: "30", bad: "500ms", badText: "500ms",
            reason: "must be 1s to 1h, got 500ms"),
        KeyCase(
            key: "workers", good: "8", rendered: "8", bad: "-1", badText: "-1", reason: "must be 1 to 100000, got -1"),
        KeyCase(
            key: "limits.fetch", good: "4", rendered: "4", bad: "0", badText: "0",
            reason: "must be 1 to 100000, got 0"),
        KeyCase(
            key: "limits.delay", good: "~", rendered: "null", bad: "100001", badText: "100001",
            reason: "must be 1 to 100000, got 100001"),
        KeyCase(
            key: "limits.per_host", good: "2", rendered: "2", bad: "two", badText: "two",
            reason: "\"two\" is not a whole number"),
        KeyCase(
            key: "limits.per_host_rate", good: "0.5/s", rendered: "\"0.5/s\"", bad: "\"0/s\"", badText: "0/s",
            reason: "must be more than 0, got \"0/s\""),
        KeyCase(
            key: "limits.host_rates", good: "{\"127.0.0.1:8080\": \"20/s\", API.example.com: 2/s}",
            rendered: "{\"127.0.0.1:8080\": \"20/s\", \"api.example.com\": \"2/s\"}", bad: "{\"a.test\": fast}",
            badText: "a.test=fast", reason: "\"a.test\": \"fast\" is not a rate (like 20/s, 600/m, 2/h or 0.5/s)"),
        KeyCase(
            key: "max_queued", good: "1000", rendered: "1000", bad: "0", badText: "0",
            reason: "must be 1 to 1000000000, got 0"),
        KeyCase(
            key: "scheduling.fair_share", good: "PER_UID", rendered: "per_uid", bad: "per_user",
            badText: "per_user", reason: "must be one of off, per_uid, got \"per_user\""),
        KeyCase(
            key: "dashboard.listen", good: "localhost:8765", rendered: "\"127.0.0.1:8765\"", bad: "0.0.0.0:8765",
            badText: "0.0.0.0:8765",
            reason: "\"0.0.0.0:8765\": the dashboard listens on loopback only (127.0.0.1, [::1] or localhost)"),
        KeyCase(
            key: "fetch.timeout", good: "250ms", rendered: "0.25", bad: "-5", badText: "-5",
            reason: "must not be negative, got -5"),
        KeyCase(
            key: "fetch.max_body_bytes", good: "1MiB", rendered: "1048576", bad: "2GiB", badText: "2GiB",
            reason: "must be 1 to 1073741824 bytes, got 2147483648"),
        KeyCase(
            key: "fetch.max_redirects", good: "0", rendered: "0", bad: "101", badText: "101",
            reason: "must be 0 to 100, got 101"),
        KeyCase(
            key: "fetch.user_agent", good: "\"probe/1.0 (tests)\"", rendered: "\"probe/1.0 (tests)\"",
            bad: "\"probe\\nInjected: yes\"", badText: "probe\nInjected: yes", reason: "must be one line"),
        KeyCase(
            key: "fetch.denied_networks", good: "[\"10.0.0.0/8\", \"fd00::/8\"]",
            rendered: "[\"10.0.0.0/8\", \"fd00::/8\"]", bad: "[\"10.0.0.0/8\", \"not-a-network\"]",
            badText: "10.0.0.0/8,not-a-network",
            reason: "\"not-a-network\": \"not-a-network\" is not an IPv4 or IPv6 address"),
        KeyCase(
            key: "retry.max_attempts", good: "3", rendered: "3", bad: "0", badText: "0",
            reason: "must be 1 to 100, got 0"),
        KeyCase(
            key: "retry.base", good: "2s", rendered: "2", bad: "soon", badText: "soon",
            reason: "\"soon\" is not a duration (seconds, or like 250ms, 90s, 5m, 2h, 7d)"),
        KeyCase(
            key: "retry.cap", good: "10m", rendered: "600", bad: "8d", badText: "8d", reason: "must be 0s to 7d, got 8d"
        ),
        KeyCase(
            key: "retention", good: "30d", rendered: "30d", bad: "7 days", badText: "7 days",
            reason: "\"7 days\" is not a duration (seconds, or like 250ms, 90s, 5m, 2h, 7d)"),
        KeyCase(
            key: "grace", good: "1.5", rendered: "1.5", bad: "2h", badText: "2h", reason: "must be 0s to 1h, got 2h"),
        KeyCase(
            key: "access.allowed_uids", good: "[0, root]", rendered: "[0, 0]", bad: "[0, no-such-user-jd]",
            badText: "0,no-such-user-jd", reason: "no user is named \"no-such-user-jd\""),
        KeyCase(
            key: "access.allowed_gids", good: "[0, \"root\"]", rendered: "[0, 0]", bad: "[no-such-group-jd]",
            badText: "no-such-group-jd", reason: "no group is named \"no-such-group-jd\""),
        KeyCase(
            key: "access.admin_group", good: "0", rendered: "\"0\"", bad: "no-such-group-jd",
            badText: "no-such-group-jd", reason: "no group is named \"no-such-group-jd\""),
        KeyCase(
            key: "log.level", good: "Debug", rendered: "debug", bad: "loud", badText: "loud",
            reason: "must be one of trace, debug, info, notice, warning, error, critical, got \"loud\""),
        KeyCase(
            key: "log.format", good: "json", rendered: "json", bad: "xml", badText: "xml",
            reason: "must be one of logfmt, json, got \"xml\""),
    ]
}

/// Each key of `ConfigurationKey.all`: a good value, a bad one and the exact message,
/// from the file, the environment and (where the key has one) the flag.
@Suite struct ConfigurationKeyTests {
    @Test("the cases cover every key of the table, in its order")
    func everyKeyHasACase() {
        #expect(KeyCase.all.map(\.key) == ConfigurationKey.all.map(\.name))
    }

    @Test("a good value in the file is taken, rendered, and credited to the file", arguments: KeyCase.all)
    func goodValueFromFile(_ keyCase: KeyCase) throws {
        try withConfigurationFixture { fixture in
            let path = try fixture.writeFile(ConfigurationFixture.yaml(keyCase.key, keyCase.good))
            let loaded = try fixture.load(configPath: path)
            let key = try #require(ConfigurationKey.named(keyCase.key))
            #expect(key.render(loaded.configuration) == keyCase.rendered)
            #expect(loaded.origins[keyCase.key] == path)
        }
    }

    @Test("a bad value in the file is refused naming the key and the file, exit status 78", arguments: KeyCase.all)
    func badValueFromFile(_ keyCase: KeyCase) throws {
        try withConfigurationFixture { fixture in
            let path = try fixture.writeFile(ConfigurationFixture.yaml(keyCase.key, keyCase.bad))
            let error = try #require(throws: ConfigurationError.self) { try fixture.load(configPath: path) }
            #expect(error.code == .invalidValue)
            #expect(error.key == keyCase.key)
            #expect(error.source == path)
            #expect("\(error)" == "invalid configuration: \(keyCase.key): \(keyCase.reason) (in \(path))")
            #expect(error.exitStatus == .badConfiguration)
            #expect(error.exitStatus.rawValue == 78)
        }
    }

    @Test(
        "a bad value in its JOBD_ variable is refused naming the variable",
        arguments: KeyCase.all.filter { !$0.badText.isEmpty })
    func badValueFromEnvironment(_ keyCase: KeyCase) throws {
        let key = try #require(ConfigurationKey.named(keyCase.key))
        try withConfigurationFixture { fixture in
            let error = try #require(throws: ConfigurationError.self) {
                try fixture.load(environment: [key.environmentName: keyCase.badText])
            }
            #expect(
                "\(error)" == "invalid configuration: \(keyCase.key): \(keyCase.reason) (in \(key.environmentName))")
        }
    }

    @Test(
        "a bad value in its flag is refused naming the flag",
        arguments: KeyCase.all.filter { ConfigurationKey.named($0.key)?.flag != nil && !$0.badText.isEmpty })
    func badValueFromFlag(_ keyCase: KeyCase) throws {
        let flag = try #require(ConfigurationKey.named(keyCase.key)?.flag)
        try withConfigurationFixture { fixture in
            let error = try #require(throws: ConfigurationError.self) {
                try fixture.load(flags: [keyCase.key: keyCase.badText])
            }
            #expect("\(error)" == "invalid configuration: \(keyCase.key): \(keyCase.reason) (in \(flag))")
        }
    }

    @Test(
        "a key holding one value refuses a YAML list",
        arguments: ConfigurationKey.all.filter { !$0.isList && !$0.isMap }.map(\.name))
    func scalarKeyRefusesList(_ name: String) throws {
        try withConfigurationFixture { fixture in
            let path = try fixture.writeFile(ConfigurationFixture.yaml(name, "[1, 2]"))
            let error = try #require(throws: ConfigurationError.self) { try fixture.load(configPath: path) }
            #expect("\(error)" == "invalid configuration: \(name): expected a single value, not a list (in \(path))")
        }
    }

    @Test("a list key takes a comma-separated scalar, and null for none")
    func listKeyScalars() throws {
        try withConfigurationFixture { fixture in
            let key = try #require(ConfigurationKey.named("fetch.denied_networks"))
            let commas = try fixture.load(yaml: "fetch:\n  denied_networks: \"10.0.0.0/8, 192.168.0.0/16\"\n")
            #expect(key.render(commas.configuration) == "[\"10.0.0.0/8\", \"192.168.0.0/16\"]")
            let none = try fixture.load(yaml: "fetch:\n  denied_networks: null\n")
            #expect(none.configuration.deniedNetworks.isEmpty)
            let empty = try fixture.load(yaml: "fetch:\n  denied_networks: []\n")
            #expect(empty.configuration.deniedNetworks.isEmpty)
            let quotedEmpty = try fixture.load(yaml: "fetch:\n  denied_networks: \"[]\"\n")
            #expect(quotedEmpty.configuration.deniedNetworks.isEmpty)
        }
    }

    @Test("retry.cap below retry.base is refused naming retry.cap and where it came from")
    func capBelowBase() throws {
        try withConfigurationFixture { fixture in
            let path = try fixture.writeFile("retry:\n  base: 10\n  cap: 5\n")
            let error = try #require(throws: ConfigurationError.self) { try fixture.load(configPath: path) }
            #expect(
                "\(error)"
                    == "invalid configuration: retry.cap: must be at least retry.base (10 s), got 5 s (in \(path))")
            let fromDefault = try #require(throws: ConfigurationError.self) {
                try fixture.load(environment: ["JOBD_RETRY_BASE": "10m"])
            }
            #expect(
                "\(fromDefault)"
                    == "invalid configuration: retry.cap: must be at least retry.base (600 s), got 300 s (in default)")
        }
    }
}
