import Testing

@testable import JobdDaemon

/// `DaemonArguments`: the flags reach their keys.
@Suite struct DaemonArgumentsTests {
    @Test("each flag maps to the key whose table entry names that flag")
    func flagsMapToKeys() throws {
        let arguments = DaemonArguments(
            socket: "--socket", database: "--database", workers: "--workers", synchronous: "--synchronous",
            logLevel: "--log-level", grace: "--grace", databaseURL: "--database-url", nodeName: "--node-name")
        let flags = arguments.flags
        #expect(Set(flags.keys) == Set(ConfigurationKey.all.filter { $0.flag != nil }.map(\.name)))
        for (name, value) in flags {
            #expect(ConfigurationKey.named(name)?.flag == value, "\(name)")
        }
    }

    @Test("flags not given are left out")
    func unsetFlags() {
        #expect(DaemonArguments().flags.isEmpty)
        #expect(
            DaemonArguments(configPath: "/tmp/x.yaml", checkConfiguration: true, workers: "3").flags == ["workers": "3"]
        )
    }
}
