import JobdModel
import Logging
import Testing

@testable import JobdDaemon

/// `LoadedConfiguration.effectiveText`: what `--check-config` prints.
@Suite struct LoadedConfigurationTests {
    @Test("the effective text lists every key once with its value and source")
    func effectiveText() throws {
        try withConfigurationFixture { fixture in
            let path = try fixture.writeFile("workers: 3\nfetch:\n  timeout: 12\n")
            let loaded = try fixture.load(
                flags: ["grace": "4"], configPath: path, environment: ["JOBD_LOG_LEVEL": "debug"])
            let lines = loaded.effectiveText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            #expect(lines.first == "# jobd \(jobdVersion) effective configuration (file: \(path))")
            #expect(lines.last == "")
            #expect(lines.contains("workers: 3  # \(path)"))
            #expect(lines.contains("  timeout: 12  # \(path)"))
            #expect(lines.contains("grace: 4  # --grace"))
            #expect(lines.contains("  level: debug  # JOBD_LOG_LEVEL"))
            #expect(lines.contains("  max_redirects: 10  # default"))
            #expect(lines.contains("fetch:"))
            let valueLines = lines.filter { $0.contains("  # ") }
            #expect(valueLines.count == ConfigurationKey.all.count)
        }
    }

    @Test("the effective text is itself a configuration file that loads to the same settings")
    func roundTrip() throws {
        try withConfigurationFixture { fixture in
            let path = try fixture.writeFile(
                "workers: 3\nfetch:\n  denied_networks: [10.0.0.0/8]\n  user_agent: \"a \\\"quoted\\\" agent\"\n"
                    + "retention: null\nsocket:\n  mode: \"0600\"\n")
            let first = try fixture.load(configPath: path)
            let copy = try fixture.writeFile(first.effectiveText, named: "effective.yaml")
            let second = try fixture.load(configPath: copy)
            #expect(second.configuration == first.configuration)
        }
    }

    @Test("changes(to:) names the keys that differ, in table order, and which apply live")
    func changes() {
        var other = DaemonConfiguration.defaults
        other.workers = 32
        other.fetchTimeout = .seconds(10)
        other.logLevel = .debug
        let changes = DaemonConfiguration.defaults.changes(to: other)
        #expect(
            changes.map(\.description) == ["workers: 16 -> 32", "fetch.timeout: 30 -> 10", "log.level: info -> debug"])
        #expect(changes.map(\.isLive) == [true, false, true])
        #expect(DaemonConfiguration.defaults.changes(to: .defaults).isEmpty)
    }
}
