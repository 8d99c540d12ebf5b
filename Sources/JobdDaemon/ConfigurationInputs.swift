/// What `DaemonConfiguration.load(_:)` reads: the flags, the environment, who runs.
struct ConfigurationInputs: Sendable {
    /// Values given as flags, by key name (`workers` → `"8"`).
    var flags: [String: String]
    /// `--config`, if given.
    var configPath: String?
    /// The process environment.
    var environment: [String: String]
    /// The effective uid, for the default paths.
    var uid: UInt32
}
