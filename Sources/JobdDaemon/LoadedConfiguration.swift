/// A loaded configuration and where each value came from.
struct LoadedConfiguration: Sendable {
    /// The merged, checked configuration, paths resolved.
    var configuration: DaemonConfiguration
    /// The file read, if any.
    var file: String?
    /// Where each key's value came from, by key name: a flag, a variable, the file, or `default`.
    var origins: [String: String]
    /// What was ignored with a warning (unknown `JOBD_*` variables): logged at start,
    /// printed by `--check-config` on stderr.
    var warnings: [String] = []
}
