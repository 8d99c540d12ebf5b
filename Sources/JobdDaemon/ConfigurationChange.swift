/// One key whose value differs between two configurations.
struct ConfigurationChange: Sendable, Equatable {
    /// The key.
    var key: String
    /// The value before, as YAML.
    var old: String
    /// The value after, as YAML.
    var new: String
    /// True when a SIGHUP applies it; false when it needs a restart.
    var isLive: Bool

    /// `workers: 16 -> 32`.
    var description: String { "\(key): \(old) -> \(new)" }
}
