import Foundation

@testable import JobdDaemon

/// A temporary directory for one test's configuration files, and loading helpers.
///
/// Every test makes its own (suites run in parallel) and removes it with `remove()`,
/// usually through `withConfigurationFixture(_:)`.
struct ConfigurationFixture {
    /// An environment of an ordinary user: no `JOBD_*` variables, no systemd directories.
    static let userEnvironment = [
        "HOME": "/home/tester", "XDG_RUNTIME_DIR": "/run/user/1000", "XDG_STATE_HOME": "/home/tester/.state",
    ]

    /// The directory, under the system's temporary directory.
    let directory: URL

    /// Makes the directory.
    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "jobd-daemon-tests-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// Removes the directory and its files.
    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Writes `text` to a new file in the directory and returns its path.
    func writeFile(_ text: String, named name: String = "jobd.yaml") throws -> String {
        let path = directory.appendingPathComponent(name).path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The YAML of one key set to `value` (a YAML literal), nested as in `Config/jobd.yaml`.
    static func yaml(_ key: String, _ value: String) -> String {
        let components = key.split(separator: ".")
        guard components.count == 2 else { return "\(key): \(value)\n" }
        return "\(components[0]):\n  \(components[1]): \(value)\n"
    }

    /// Loads the configuration as `jobd` would, with `environment` added to `userEnvironment`.
    ///
    /// Without `configPath` and without `JOBD_CONFIG` an empty file of this fixture is
    /// used, so an installed `/etc/jobd/jobd.yaml` never leaks into a test.
    func load(
        flags: [String: String] = [:], configPath: String? = nil, environment: [String: String] = [:],
        uid: UInt32 = 1000
    ) throws -> LoadedConfiguration {
        let environment = Self.userEnvironment.merging(environment) { $1 }
        var path = configPath
        if path == nil, environment["JOBD_CONFIG"] == nil {
            path = try writeFile("", named: "empty.yaml")
        }
        return try DaemonConfiguration.load(
            ConfigurationInputs(flags: flags, configPath: path, environment: environment, uid: uid))
    }

    /// Loads a file holding `yaml`.
    func load(yaml: String, flags: [String: String] = [:], environment: [String: String] = [:]) throws
        -> LoadedConfiguration
    {
        try load(flags: flags, configPath: try writeFile(yaml), environment: environment)
    }
}

/// Runs `body` with a new fixture and removes the fixture afterwards, also when `body` throws.
func withConfigurationFixture<Result>(_ body: (ConfigurationFixture) throws -> Result) throws -> Result {
    let fixture = try ConfigurationFixture()
    defer { fixture.remove() }
    return try body(fixture)
}
