import JobdRuntime
import Testing

/// Rates as the configuration spells them, and which host gets which.
@Suite struct HostRateTableTests {
    @Test("rates parse in seconds, minutes and hours, decimals allowed, and print back the same")
    func parsing() throws {
        for (text, perSecond, burst, printed) in [
            ("20/s", 20.0, 20, "20/s"), ("600/m", 10, 10, "600/m"), ("2/h", 2.0 / 3600, 1, "2/h"),
            ("0.5/s", 0.5, 1, "0.5/s"), (" 2.5 / S ", 2.5, 2, "2.5/s"), ("1e3/s", 1000, 1000, "1000/s"),
        ] {
            let rate = try RateLimit(parsing: text)
            #expect(abs(rate.perSecond - perSecond) < 1e-12, "\(text)")
            #expect(rate.burst == burst, "\(text)")
            #expect(rate.description == printed, "\(text)")
            #expect(try RateLimit(parsing: rate.description) == rate)
        }
    }

    @Test(
        "anything else is refused with a reason that quotes it",
        arguments: [
            ("fast", #""fast" is not a rate (like 20/s, 600/m, 2/h or 0.5/s)"#),
            ("20", #""20" is not a rate (like 20/s, 600/m, 2/h or 0.5/s)"#),
            ("20/d", #""20/d" is not a rate (like 20/s, 600/m, 2/h or 0.5/s)"#),
            ("nan/s", #""nan/s" is not a rate (like 20/s, 600/m, 2/h or 0.5/s)"#),
            ("0x10/s", #""0x10/s" is not a rate (like 20/s, 600/m, 2/h or 0.5/s)"#),
            ("/s", #""/s" is not a rate (like 20/s, 600/m, 2/h or 0.5/s)"#),
            ("0/s", #"must be more than 0, got "0/s""#),
            ("-1/s", #"must be more than 0, got "-1/s""#),
            ("2000000/s", #"must be at most 1000000/s, got "2000000/s""#),
            ("0.01/h", #"must be at least one a day (0.0417/h), got "0.01/h""#),
        ])
    func refused(text: String, reason: String) {
        let error = #expect(throws: RateLimit.ParseError.self) { try RateLimit(parsing: text) }
        #expect(error?.reason == reason)
    }

    @Test("an entry for host:port wins over one for the host, which wins over per_host_rate")
    func lookup() throws {
        let fast = try RateLimit(parsing: "20/s")
        let slow = try RateLimit(parsing: "2/s")
        let every = try RateLimit(parsing: "10/s")
        let table = try HostRateTable(
            perHost: every, hosts: ["127.0.0.1:8080": fast, "API.Example.com": slow, "[::1]:9000": slow])
        #expect(table.rate(for: "127.0.0.1:8080") == fast)
        #expect(table.rate(for: "127.0.0.1:8081") == every)
        #expect(table.rate(for: "api.example.com:443") == slow)
        #expect(table.rate(for: "api.example.com:80") == slow)
        #expect(table.rate(for: "::1:9000") == slow)
        #expect(table.rate(for: "[::1]:9000") == slow)
        #expect(table.rate(for: "::1:9001") == every)
        #expect(try HostRateTable(perHost: nil, hosts: ["a.test": fast]).rate(for: "b.test:80") == nil)
        #expect(HostRateTable().isEmpty)
    }

    @Test("keys are normalized: lower case, IPv6 in brackets before a port; bad keys are refused")
    func patterns() throws {
        #expect(try HostRateTable.pattern("API.example.com").description == "api.example.com")
        #expect(try HostRateTable.pattern("127.0.0.1:8080").description == "127.0.0.1:8080")
        #expect(try HostRateTable.pattern("[::1]:8080") == HostRateTable.HostPattern(host: "::1", port: 8080))
        #expect(try HostRateTable.pattern("[::1]:8080").description == "[::1]:8080")
        #expect(try HostRateTable.pattern("::1") == HostRateTable.HostPattern(host: "::1", port: nil))
        #expect(try HostRateTable.pattern("[fe80::1]") == HostRateTable.HostPattern(host: "fe80::1", port: nil))
        for bad in ["", "http://a.test", "a.test/x", "a.test:0", "a.test:99999", "a.test:x", "[::1", "[::1]x", "a b"] {
            #expect(throws: HostRateTable.InvalidHost.self, "\(bad.debugDescription)") {
                try HostRateTable.pattern(bad)
            }
        }
        let rate = try RateLimit(parsing: "1/s")
        #expect(throws: HostRateTable.InvalidHost.self) {
            try HostRateTable(perHost: nil, hosts: ["A.test": rate, "a.test": rate])
        }
    }
}
