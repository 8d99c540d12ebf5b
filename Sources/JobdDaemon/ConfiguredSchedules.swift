import Foundation
import JobdModel
import Yams

/// The `schedules:` section of the configuration file: a YAML sequence of schedules, each
/// a mapping with the fields of `POST /v1/schedules` (`name`, `cron`, `timezone`, `job`,
/// `missed`), like systemd timers declared beside the service.
///
/// swift-configuration's YAML snapshot holds scalars and lists of scalars only, so the
/// section is taken out of the document before the snapshot reads the rest, and decoded
/// here through the API's own decoder and validation: a bad schedule is refused with the
/// same words as the API would use, naming `schedules[2].cron`.
enum ConfiguredSchedules {
    /// The section's key.
    static let key = "schedules"

    /// Splits a configuration document into the YAML without `schedules:` and the
    /// schedules it declared (nil when it has no such section).
    ///
    /// - Throws: `ConfigurationError` naming the schedule's field when a schedule is invalid.
    static func split(_ text: String, path: String) throws -> (rest: String, schedules: [ScheduleSpec]?) {
        // A document that is not YAML is left whole to the snapshot, whose error names it.
        guard let node = try? Yams.compose(yaml: text), var mapping = node.mapping, let section = mapping[Node(key)]
        else { return (text, nil) }
        mapping[Node(key)] = nil
        let rest: String
        do {
            rest = mapping.isEmpty ? "" : try Yams.serialize(node: .mapping(mapping))
        } catch {
            throw ConfigurationError(
                .unreadableFile, key: "config", reason: "\(path) cannot be read again: \(error)", source: path)
        }
        return (rest, try schedules(in: section, path: path))
    }

    /// The schedules of the section's node, validated.
    static func schedules(in section: Node, path: String) throws -> [ScheduleSpec] {
        if case .scalar(let scalar) = section, ["", "~", "null"].contains(scalar.string) { return [] }
        guard let items = section.sequence else {
            throw ConfigurationError(
                .invalidValue, key: key, reason: "must be a list of schedules (name, cron, timezone, job, missed)",
                source: path)
        }
        var specs: [ScheduleSpec] = []
        var names: Set<String> = []
        for (index, item) in items.enumerated() {
            let field = "\(key)[\(index)]"
            let json: Data
            do {
                json = try JSONSerialization.data(withJSONObject: try jsonObject(item, field: field))
            } catch let error as ConfigurationError {
                throw ConfigurationError(error.code, key: error.key, reason: error.reason, source: path)
            }
            var spec: ScheduleSpec
            do {
                spec = try ScheduleSpec.decode(json)
            } catch {
                throw ConfigurationError(
                    .invalidValue, key: error.field.map { "\(field).\($0)" } ?? field, reason: error.message,
                    source: path)
            }
            guard names.insert(spec.name).inserted else {
                throw ConfigurationError(
                    .invalidValue, key: "\(field).name", reason: "the name \(spec.name.debugDescription) is used twice",
                    source: path)
            }
            if spec.timezone == nil { spec.timezone = TimeZone.current.identifier }
            if spec.missed == nil { spec.missed = .skip }
            specs.append(spec)
        }
        return specs
    }

    /// A YAML node as the JSON value it reads as: scalars resolved by YAML's core schema
    /// (`1` a number, `true` a boolean, `~` null, anything quoted a string).
    private static func jsonObject(_ node: Node, field: String) throws -> Any {
        switch node {
        case .scalar(let scalar):
            if scalar.style != .plain { return scalar.string }
            if let value = Bool.construct(from: scalar) { return value }
            if let value = Int.construct(from: scalar) { return value }
            if let value = Double.construct(from: scalar), value.isFinite { return value }
            if NSNull.construct(from: scalar) != nil { return NSNull() }
            return scalar.string
        case .mapping(let mapping):
            var object: [String: Any] = [:]
            for (key, value) in mapping {
                guard let name = key.string else {
                    throw ConfigurationError(.invalidValue, key: field, reason: "keys must be text", source: "")
                }
                object[name] = try jsonObject(value, field: "\(field).\(name)")
            }
            return object
        case .sequence(let sequence):
            return try sequence.enumerated().map { index, value in try jsonObject(value, field: "\(field)[\(index)]") }
        case .alias:
            throw ConfigurationError(
                .invalidValue, key: field, reason: "YAML aliases are not supported here", source: "")
        }
    }
}
