/// A configuration that cannot be used: a bad value, an unknown key, an unreadable file.
///
/// It stops the start with exit code 78 (`EX_CONFIG`) and prints as
/// `invalid configuration: <key>: <reason> (in <source>)`, where the source is the file,
/// the `JOBD_*` variable or the flag that held the value. On SIGHUP the same message is
/// logged and the running configuration is kept.
struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    /// A stable error code, compared by its raw string.
    struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        var rawValue: String
        init(rawValue: String) { self.rawValue = rawValue }
        var description: String { rawValue }

        /// A key holds a value out of range or of the wrong shape.
        static let invalidValue = Code(rawValue: "invalid_value")
        /// A key (or `JOBD_*` variable) that jobd does not know, usually a typo.
        static let unknownKey = Code(rawValue: "unknown_key")
        /// The configuration file is missing, unreadable or not YAML.
        static let unreadableFile = Code(rawValue: "unreadable_file")
    }

    /// What went wrong.
    var code: Code
    /// The key, as written in the file (`fetch.timeout`), or `config` for the file itself.
    var key: String
    /// Why the value is refused, with the value itself.
    var reason: String
    /// Where the value came from: a file path, a `JOBD_*` variable or a `--flag`.
    var source: String

    init(_ code: Code, key: String, reason: String, source: String) {
        self.code = code
        self.key = key
        self.reason = reason
        self.source = source
    }

    var description: String { "invalid configuration: \(key): \(reason) (in \(source))" }

    /// The line jobd prints to stderr before it exits: `jobd: invalid configuration: …`.
    var errorLine: String { "jobd: \(self)" }

    /// The exit status a configuration error ends the start with: 78, `EX_CONFIG`.
    var exitStatus: DaemonExitStatus { .badConfiguration }
}
