import Foundation
import JobdModel

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
        if !configuration.schedules.isEmpty {
            // One JSON object per schedule: JSON is YAML, so the output stays a valid file.
            lines.append("schedules:  # \(file ?? "none")")
            let encoder = JSONCoding.makeEncoder()
            for schedule in configuration.schedules {
                let json = (try? encoder.encode(schedule)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
                lines.append("  - \(json)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
