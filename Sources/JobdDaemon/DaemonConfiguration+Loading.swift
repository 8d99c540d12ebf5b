import Foundation
import JobdModel

extension DaemonConfiguration {
    /// The file read when neither `--config` nor `$JOBD_CONFIG` names one.
    static let defaultFilePath = "/etc/jobd/jobd.yaml"

    /// Reads, merges and checks the configuration.
    ///
    /// Precedence per key: flag, then `JOBD_*` variable, then the file, then the default.
    /// Every source's value is checked, not only the one that wins, so a bad value in the
    /// file is found even while a flag overrides it.
    ///
    /// Blocking: it reads the file and may call NSS for group and user names. Call it on
    /// a thread that may block (`NIOThreadPool.singleton.runIfActive`).
    ///
    /// - Throws: `ConfigurationError` naming the key, the reason and the source.
    static func load(_ inputs: ConfigurationInputs) throws -> LoadedConfiguration {
        var layers: [ConfigurationLayer] = []
        if !inputs.flags.isEmpty {
            layers.append(ConfigurationLayer.flags(inputs.flags))
        }
        let environmentLayer = try ConfigurationLayer.environment(inputs.environment)
        layers.append(environmentLayer)
        let file = try configurationFile(inputs)
        var schedules: [ScheduleSpec] = []
        if let file {
            let layer = try ConfigurationLayer.file(file.path, explicitlyNamedBy: file.namedBy)
            schedules = layer.schedules ?? []
            layers.append(layer)
        }

        var configuration = DaemonConfiguration.defaults
        configuration.schedules = schedules
        var origins: [String: String] = [:]
        for key in ConfigurationKey.all {
            origins[key.name] = "default"
            // Lowest first, so the highest source is applied last and wins; every
            // source's value is checked on the way. This loop is the precedence, not
            // swift-configuration's ConfigReader: its layering (MultiProvider) stops at the
            // first provider holding a value and never asks the ones below, so a bad value
            // that a higher source overrides would go unchecked, and it tells which
            // provider answered only to an AccessReporter. jobd promises both (every source
            // checked, each error and --check-config line naming its source), so each
            // layer is asked on its own; the layers still parse through the library's
            // providers (ConfigurationLayer).
            for layer in layers.reversed() {
                guard let (raw, source) = try layer.lookup(key) else { continue }
                do {
                    try key.apply(&configuration, raw)
                } catch let error as InvalidValue {
                    throw ConfigurationError(.invalidValue, key: key.name, reason: error.reason, source: source)
                }
                origins[key.name] = source
            }
        }

        if configuration.retryCap < configuration.retryBase {
            throw ConfigurationError(
                .invalidValue, key: "retry.cap",
                reason:
                    "must be at least retry.base (\(ConfigurationParser.renderSeconds(configuration.retryBase)) s), "
                    + "got \(ConfigurationParser.renderSeconds(configuration.retryCap)) s",
                source: origins["retry.cap"] ?? "default")
        }

        // Under systemd, RuntimeDirectory= and StateDirectory= name the directories the
        // unit owns: the default paths follow them, so the unit needs no path settings.
        let defaults = DefaultPaths(uid: inputs.uid, environment: inputs.environment)
        if configuration.socketPath == nil {
            let path = firstDirectory(inputs.environment["RUNTIME_DIRECTORY"]).map { $0 + "/jobd.sock" }
            configuration.socketPath = path ?? defaults.socket
            origins["socket.path"] = path == nil ? "default" : "default, from RUNTIME_DIRECTORY"
            do {
                _ = try ConfigurationParser.socketPath(configuration.socketPath!)
            } catch let error as InvalidValue {
                throw ConfigurationError(
                    .invalidValue, key: "socket.path", reason: error.reason, source: origins["socket.path"]!)
            }
        }
        if configuration.databasePath == nil {
            let path = firstDirectory(inputs.environment["STATE_DIRECTORY"]).map { $0 + "/jobd.sqlite" }
            configuration.databasePath = path ?? defaults.database
            origins["database.path"] = path == nil ? "default" : "default, from STATE_DIRECTORY"
        }
        return LoadedConfiguration(
            configuration: configuration, file: file?.path, origins: origins, warnings: environmentLayer.warnings)
    }

    /// The file to read and what named it, or nil when none is named and the default is absent.
    private static func configurationFile(_ inputs: ConfigurationInputs) throws -> (path: String, namedBy: String?)? {
        if let path = inputs.configPath {
            return (path, "--config")
        }
        if let path = inputs.environment["JOBD_CONFIG"], !path.isEmpty {
            return (path, "JOBD_CONFIG")
        }
        if FileManager.default.fileExists(atPath: defaultFilePath) {
            return (defaultFilePath, nil)
        }
        return nil
    }

    /// The first of systemd's colon-separated directory list, if any.
    private static func firstDirectory(_ list: String?) -> String? {
        guard let first = list?.split(separator: ":").first, !first.isEmpty else { return nil }
        return String(first)
    }
}
