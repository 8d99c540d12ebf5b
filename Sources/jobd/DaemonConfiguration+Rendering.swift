import JobdModel

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

extension DaemonConfiguration {
    /// The keys whose values differ from `other`, in table order.
    func changes(to other: DaemonConfiguration) -> [ConfigurationChange] {
        ConfigurationKey.all.compactMap { key in
            let old = key.render(self)
            let new = key.render(other)
            return old == new ? nil : ConfigurationChange(key: key.name, old: old, new: new, isLive: key.isLive)
        }
    }
}

extension LoadedConfiguration {
    /// The effective configuration as YAML, each value with its source as a comment.
    ///
    /// What `jobd --check-config` prints: it can be used as a configuration file.
    var effectiveText: String {
        var lines = ["# jobd \(jobdVersion) effective configuration (file: \(file ?? "none"))"]
        var section: String?
        for key in ConfigurationKey.all {
            let components = key.components
            let value = key.render(configuration)
            let origin = origins[key.name] ?? "default"
            if components.count == 1 {
                section = nil
                lines.append("\(key.name): \(value)  # \(origin)")
                continue
            }
            if section != components[0] {
                section = components[0]
                lines.append("\(components[0]):")
            }
            lines.append("  \(components[1]): \(value)  # \(origin)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
