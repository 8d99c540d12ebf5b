import JobdRuntime
import Testing

@testable import JobdDaemon

/// `limits.per_host_rate` and `limits.host_rates`: a map whose keys are host names, which
/// hold the dots and colons that the configuration's flattened key names use.
@Suite struct HostRatesConfigurationTests {
    static func pattern(_ key: String) throws -> HostRateTable.HostPattern {
        try HostRateTable.pattern(key)
    }

    @Test("the issue's flow map and the block style read the same; per_host_rate applies to the rest")
    func fileForms() throws {
        try withConfigurationFixture { fixture in
            let flow = try fixture.load(
                yaml: "limits:\n  per_host_rate: 10/s\n  host_rates: {\"127.0.0.1:8080\": \"20/s\"}\n")
            let block = try fixture.load(
                yaml: "limits:\n  per_host_rate: \"10/s\"\n  host_rates:\n    127.0.0.1:8080: 20/s\n")
            #expect(flow.configuration.hostRates == block.configuration.hostRates)
            let table = flow.configuration.runtimeOptions.hostRates
            #expect(table.entries == [try Self.pattern("127.0.0.1:8080"): try RateLimit(parsing: "20/s")])
            #expect(table.rate(for: "127.0.0.1:8080") == (try RateLimit(parsing: "20/s")))
            #expect(table.rate(for: "127.0.0.1:8081") == (try RateLimit(parsing: "10/s")))
            #expect(flow.origins["limits.host_rates"] == flow.file)
        }
    }

    @Test("hosts with dots, colons and IPv6 brackets, with and without ports, keep their keys")
    func hostKeys() throws {
        try withConfigurationFixture { fixture in
            let loaded = try fixture.load(
                yaml: """
                    limits:
                      host_rates:
                        api.example.com: 2/s
                        "api.example.com:8443": 600/m
                        "[::1]:9000": 0.5/s
                        a.b.c.d.example: 1/h
                    """)
            let key = try #require(ConfigurationKey.named("limits.host_rates"))
            #expect(
                key.render(loaded.configuration)
                    == #"{"[::1]:9000": "0.5/s", "a.b.c.d.example": "1/h", "api.example.com": "2/s", "api.example.com:8443": "600/m"}"#
            )
        }
    }

    @Test("JOBD_LIMITS_HOST_RATES takes host=rate pairs, comma-separated, over the file")
    func environment() throws {
        try withConfigurationFixture { fixture in
            let loaded = try fixture.load(
                yaml: "limits:\n  host_rates: {\"a.test\": \"1/s\"}\n",
                environment: ["JOBD_LIMITS_HOST_RATES": "127.0.0.1:8080=20/s, api.example.com = 2/s"])
            #expect(
                loaded.configuration.hostRates.entries == [
                    try Self.pattern("127.0.0.1:8080"): try RateLimit(parsing: "20/s"),
                    try Self.pattern("api.example.com"): try RateLimit(parsing: "2/s"),
                ])
            #expect(loaded.origins["limits.host_rates"] == "JOBD_LIMITS_HOST_RATES")
            let error = try #require(throws: ConfigurationError.self) {
                try fixture.load(environment: ["JOBD_LIMITS_HOST_RATES": "api.example.com:2/s"])
            }
            #expect(
                "\(error)"
                    == #"invalid configuration: limits.host_rates: "api.example.com:2/s" is not host=rate (like api.example.com=2/s,127.0.0.1:8080=20/s) (in JOBD_LIMITS_HOST_RATES)"#
            )
        }
    }

    @Test(
        "a map of anything but host to rate is refused with exit 78, naming the key and the host",
        arguments: [
            (
                "limits:\n  host_rates: {\"a.test\": {\"x\": \"2/s\"}}\n",
                #"limits.host_rates: "a.test": expected a rate like "20/s", not a map"#
            ),
            (
                "limits:\n  host_rates: {\"a.test\": [1, 2]}\n",
                #"limits.host_rates: "a.test": expected a rate like "20/s", not a list"#
            ),
            (
                "limits:\n  host_rates: [\"a.test=2/s\"]\n",
                #"limits.host_rates: expected a map of host to rate, like {"api.example.com": "2/s"}, not a list"#
            ),
            (
                "limits:\n  host_rates: {\"http://a.test\": \"2/s\"}\n",
                #"limits.host_rates: "http://a.test" is not a host or host:port (no scheme or path)"#
            ),
            (
                "limits:\n  host_rates: {\"a.test:0\": \"2/s\"}\n",
                #"limits.host_rates: "a.test:0": the port must be 1 to 65535"#
            ),
            (
                "limits:\n  host_rates: {\"A.test\": \"2/s\", \"a.test\": \"3/s\"}\n",
                #"limits.host_rates: "A.test" and "a.test" name the same host"#
            ),
            (
                "limits:\n  host_rates: {\"a.test\": ~}\n",
                #"limits.host_rates: "a.test": expected a rate like "20/s", not null"#
            ),
            ("limits:\n  per_host_rate: 2/d\n", #"limits.per_host_rate: "2/d" is not a rate"#),
        ])
    func refused(yaml: String, message: String) throws {
        try withConfigurationFixture { fixture in
            let path = try fixture.writeFile(yaml)
            let error = try #require(throws: ConfigurationError.self) { try fixture.load(configPath: path) }
            #expect(error.code == .invalidValue)
            #expect(error.exitStatus.rawValue == 78)
            #expect("\(error)".hasPrefix("invalid configuration: \(message)"), "\(error)")
            #expect("\(error)".hasSuffix("(in \(path))"), "\(error)")
        }
    }

    @Test("the map's keys are not taken for unknown keys, and a misspelt sibling still is")
    func unknownKeys() throws {
        try withConfigurationFixture { fixture in
            let loaded = try fixture.load(yaml: "limits:\n  host_rates: {\"fetch.timeout\": \"1/s\"}\n")
            #expect(loaded.configuration.hostRates.entries.count == 1)
            let path = try fixture.writeFile("limits:\n  host_rate: {\"a.test\": \"1/s\"}\n")
            let error = try #require(throws: ConfigurationError.self) { try fixture.load(configPath: path) }
            #expect(error.code == .unknownKey)
            #expect(error.key == "limits.host_rate.a.test")
        }
    }

    @Test("null, {} and an absent key are no rates; the effective text shows {} and loads again")
    func emptyForms() throws {
        try withConfigurationFixture { fixture in
            for yaml in ["limits:\n  host_rates: null\n", "limits:\n  host_rates: {}\n", "workers: 2\n"] {
                let loaded = try fixture.load(yaml: yaml)
                #expect(loaded.configuration.hostRates.isEmpty, "\(yaml)")
                #expect(loaded.effectiveText.contains("  host_rates: {}  # "), "\(yaml)")
                #expect(loaded.effectiveText.contains("  per_host_rate: null  # "), "\(yaml)")
            }
            let path = try fixture.writeFile(
                "limits:\n  per_host_rate: 600/m\n  host_rates: {\"127.0.0.1:8080\": \"20/s\", \"[::1]:80\": \"1/h\"}\n"
            )
            let first = try fixture.load(configPath: path)
            let copy = try fixture.writeFile(first.effectiveText, named: "effective.yaml")
            #expect(try fixture.load(configPath: copy).configuration == first.configuration)
        }
    }

    @Test("both keys change live on SIGHUP")
    func live() throws {
        var other = DaemonConfiguration.defaults
        other.hostRates = try HostRateTable(
            perHost: try RateLimit(parsing: "5/s"), hosts: ["a.test": try RateLimit(parsing: "1/s")])
        let changes = DaemonConfiguration.defaults.changes(to: other)
        #expect(
            changes.map(\.description) == [
                #"limits.per_host_rate: null -> "5/s""#, #"limits.host_rates: {} -> {"a.test": "1/s"}"#,
            ])
        #expect(changes.map(\.isLive) == [true, true])
    }
}
