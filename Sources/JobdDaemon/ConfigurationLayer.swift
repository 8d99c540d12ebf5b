import Configuration
import Foundation
import JobdModel
import Synchronization

/// One source of settings: the flags, the environment, or the YAML file.
///
/// Each wraps a swift-configuration provider or snapshot and answers with the raw value
/// of a key and a description of where it was (`--workers`, `JOBD_WORKERS`, the path).
struct ConfigurationLayer {
    /// The raw value of `key` and its source, or nil when this layer does not set it.
    let lookup: (ConfigurationKey) throws -> (RawSetting, String)?
    /// The file's `schedules:` section (`ConfiguredSchedules`); nil for other layers and
    /// for a file without one.
    var schedules: [ScheduleSpec]?
    /// What the layer ignored and the operator should hear of: `JOBD_*` variables that name
    /// no key (the environment is shared with other programs, so a stranger's
    /// `JOBD_HOME` is not worth refusing to start for).
    var warnings: [String] = []

    init(schedules: [ScheduleSpec]? = nil, lookup: @escaping (ConfigurationKey) throws -> (RawSetting, String)?) {
        self.schedules = schedules
        self.lookup = lookup
    }

    /// The command-line flags, by key name.
    static func flags(_ flags: [String: String]) -> ConfigurationLayer {
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        for (name, text) in flags {
            guard let key = ConfigurationKey.named(name) else {
                fatalError("flag for an unknown key \(name): every flag maps to a key of ConfigurationKey.all")
            }
            values[AbsoluteConfigKey(key.components)] = ConfigValue(.string(text), isSecret: false)
        }
        let provider = InMemoryProvider(name: "command line", values: values)
        return ConfigurationLayer { key in
            let found = try provider.value(forKey: AbsoluteConfigKey(key.components), type: .string).value
            guard case .string(let text) = found?.content else { return nil }
            return (.scalar(text), key.flag ?? key.name)
        }
    }

    /// The `JOBD_*` variables of `environment`; an empty variable counts as unset.
    ///
    /// A `JOBD_*` variable that names no key is ignored with a warning naming the nearest
    /// key (`warnings`): the environment is shared with wrapper scripts and test harnesses,
    /// whose own `JOBD_HOME` must not stop the daemon, while a typo (`JOBD_WORKRS`) still
    /// gets said. A typo in the configuration file, which is jobd's alone, stays an error.
    static func environment(_ environment: [String: String]) throws -> ConfigurationLayer {
        // Own code: EnvironmentVariablesProvider answers for the names asked about and
        // ignores the rest, so a typo (JOBD_WORKRS) would pass unnoticed.
        let known = Set(ConfigurationKey.all.flatMap { [$0.environmentName] + $0.environmentAliases })
        var warnings: [String] = []
        for name in environment.keys.sorted() where name.hasPrefix("JOBD_") {
            guard !known.contains(name), !ConfigurationKey.otherVariables.contains(name) else { continue }
            let guess = nearest(to: name, among: known.sorted())
            warnings.append(
                "\(name) is not a jobd variable; ignored" + (guess.map { " (did you mean \($0)?)" } ?? ""))
        }
        let variables = environment.filter { $0.key.hasPrefix("JOBD_") && !$0.value.isEmpty }
        let provider = EnvironmentVariablesProvider(environmentVariables: variables)
        var layer = ConfigurationLayer { key in
            // The provider maps the key `jobd.fetch.max_body_bytes` to JOBD_FETCH_MAX_BODY_BYTES.
            let configKey = AbsoluteConfigKey(["jobd"] + key.components)
            if key.isList {
                let found = try provider.value(forKey: configKey, type: .stringArray).value
                if case .stringArray(let items) = found?.content {
                    return (.list(items), key.environmentName)
                }
            } else if case .string(let text) = try provider.value(forKey: configKey, type: .string).value?.content {
                return (.scalar(text), key.environmentName)
            }
            for alias in key.environmentAliases {
                if let text = try provider.environmentValue(forName: alias) {
                    return (.scalar(text), alias)
                }
            }
            return nil
        }
        layer.warnings = warnings
        return layer
    }

    /// The YAML file at `path`.
    ///
    /// - Parameters:
    ///   - path: The file.
    ///   - namedBy: `--config` or `JOBD_CONFIG` when named explicitly (then it must exist).
    /// - Throws: `ConfigurationError` `unreadable_file` when it cannot be read or is not
    ///   YAML, `unknown_key` for a key that jobd does not know.
    static func file(_ path: String, explicitlyNamedBy namedBy: String?) throws -> ConfigurationLayer {
        // open(2) first: its errno says why ("No such file or directory", "Permission denied").
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw ConfigurationError(
                .unreadableFile, key: "config", reason: "cannot read \(path): \(String(cString: strerror(errno)))",
                source: namedBy ?? path)
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        let data: Data
        do {
            data = try handle.readToEnd() ?? Data()
        } catch {
            throw ConfigurationError(
                .unreadableFile, key: "config", reason: "cannot read \(path): \(error.localizedDescription)",
                source: namedBy ?? path)
        }
        // A file of comments only is a valid, empty configuration; the YAML snapshot
        // wants a mapping at the top.
        let text = String(decoding: data, as: UTF8.self)
        let isEmpty = text.split(whereSeparator: \.isNewline).allSatisfy { line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            return trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed == "---" || trimmed == "..."
        }
        if isEmpty {
            return ConfigurationLayer { _ in nil }
        }
        let (rest, schedules) = try ConfiguredSchedules.split(text, path: path)
        if schedules != nil && rest.isEmpty {
            return ConfigurationLayer(schedules: schedules) { _ in nil }
        }
        let snapshotData = schedules == nil ? data : Data(rest.utf8)
        // swift-configuration has no API to list a snapshot's keys; the secrets specifier
        // is asked about every key while the file is parsed, so it collects them.
        let collector = KeyCollector()
        let snapshot: YAMLSnapshot
        do {
            snapshot = try YAMLSnapshot(
                data: snapshotData.bytes, providerName: path,
                parsingOptions: .init(
                    secretsSpecifier: .dynamic { key, _ in
                        collector.insert(key)
                        return false
                    }))
        } catch {
            let firstLine = "\(error)".split(whereSeparator: \.isNewline).first.map(String.init) ?? "\(error)"
            let message = firstLine.hasSuffix(":") ? String(firstLine.dropLast()) : firstLine
            throw ConfigurationError(
                .unreadableFile, key: "config", reason: "\(path) is not valid jobd YAML: \(message)",
                source: path)
        }
        // Own code, as for the environment: a snapshot answers for the keys asked about,
        // so a misspelt key in the file would be ignored without this check.
        let known = Set(ConfigurationKey.all.map(\.name))
        // A map key's own keys (host names) are values, not jobd keys.
        let mapPrefixes = ConfigurationKey.all.filter(\.isMap).map { $0.name + "." }
        for name in collector.keys.sorted() where !known.contains(name) {
            if mapPrefixes.contains(where: { name.hasPrefix($0) }) { continue }
            // `limits:` with every child commented out parses as a null `limits`.
            if ConfigurationKey.sections.contains(name),
                case .string(let value) = try? snapshot.value(forKey: AbsoluteConfigKey([name]), type: .string).value?
                    .content,
                ConfigurationParser.isNull(value)
            {
                continue
            }
            var reason = "unknown key"
            if ConfigurationKey.sections.contains(name) {
                let children = ConfigurationKey.all.filter { $0.components.first == name }.map(\.name)
                reason = "is a section of keys (\(children.joined(separator: ", "))), not a value"
            } else if let guess = nearest(to: name, among: known.sorted()) {
                reason += " (did you mean \(guess)?)"
            }
            throw ConfigurationError(.unknownKey, key: name, reason: reason, source: path)
        }
        return ConfigurationLayer(schedules: schedules) { key in
            let configKey = AbsoluteConfigKey(key.components)
            // A mapping, even an empty one (which leaves no key in the snapshot at all).
            if key.isMap, !collector.keys.contains(key.name) {
                return try mapSetting(key, in: text, path: path)
            }
            guard collector.keys.contains(key.name) else { return nil }
            if key.isList,
                case .stringArray(let items) = try? snapshot.value(forKey: configKey, type: .stringArray).value?.content
            {
                return (.list(items), path)
            }
            if case .string(let text) = try? snapshot.value(forKey: configKey, type: .string).value?.content {
                return (.scalar(text), path)
            }
            // Not a scalar and not (for a list key) a list of scalars.
            return (.list([]), path)
        }
    }

    /// A map key's mapping in the file, read with its keys intact (`YAMLMapReader`).
    ///
    /// - Throws: `ConfigurationError` `invalid_value` for a map holding anything but
    ///   scalars, naming the key and the file.
    private static func mapSetting(_ key: ConfigurationKey, in text: String, path: String) throws -> (
        RawSetting, String
    )? {
        do {
            guard let map = try YAMLMapReader.map(at: key.components, in: text) else { return nil }
            return (.map(map), path)
        } catch let error as InvalidValue {
            throw ConfigurationError(.invalidValue, key: key.name, reason: error.reason, source: path)
        } catch {
            // The snapshot parsed the same text; a second parser refusing it is a bug there.
            throw ConfigurationError(
                .unreadableFile, key: "config", reason: "\(path) is not valid jobd YAML: \(error)", source: path)
        }
    }

    /// The closest of `candidates` to `name` (edit distance at most 3), for "did you mean".
    static func nearest(to name: String, among candidates: [String]) -> String? {
        EditDistance.nearest(to: name, among: candidates)
    }
}

/// The keys seen while a YAML file is parsed.
private final class KeyCollector: Sendable {
    private let state = Mutex<Set<String>>([])

    func insert(_ key: String) {
        state.withLock { _ = $0.insert(key) }
    }

    var keys: Set<String> { state.withLock { $0 } }
}
