import Testing

@testable import JobdDaemon

/// `ConfigurationError`: its codes, its message and its exit status.
@Suite struct ConfigurationErrorTests {
    @Test("the message names the key, the reason and the source; stderr gets it after jobd:")
    func message() {
        let error = ConfigurationError(
            .invalidValue, key: "workers", reason: "must be 1 to 100000, got -1", source: "/etc/jobd/jobd.yaml")
        #expect("\(error)" == "invalid configuration: workers: must be 1 to 100000, got -1 (in /etc/jobd/jobd.yaml)")
        #expect(
            error.errorLine
                == "jobd: invalid configuration: workers: must be 1 to 100000, got -1 (in /etc/jobd/jobd.yaml)")
    }

    @Test("every configuration error ends the start with 78, EX_CONFIG")
    func exitStatus() {
        for code in [ConfigurationError.Code.invalidValue, .unknownKey, .unreadableFile] {
            let error = ConfigurationError(code, key: "k", reason: "r", source: "s")
            #expect(error.exitStatus == .badConfiguration)
        }
        #expect(DaemonExitStatus.badConfiguration.rawValue == 78)
        #expect(DaemonExitStatus.damagedDatabase.rawValue == 65)
        #expect(DaemonExitStatus.failure.rawValue == 1)
        #expect(DaemonExitStatus.success.rawValue == 0)
    }

    @Test("the codes' raw strings are stable")
    func codes() {
        #expect(ConfigurationError.Code.invalidValue.rawValue == "invalid_value")
        #expect(ConfigurationError.Code.unknownKey.rawValue == "unknown_key")
        #expect(ConfigurationError.Code.unreadableFile.rawValue == "unreadable_file")
    }
}
