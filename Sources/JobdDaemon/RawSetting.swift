/// One setting as a source holds it, before it is parsed.
enum RawSetting: Sendable, Equatable {
    /// A single value: a YAML scalar, a variable, a flag.
    case scalar(String)
    /// A YAML sequence, or a comma-separated variable.
    case list([String])
    /// A YAML mapping of scalars (`limits.host_rates`), by key.
    case map([String: String])
}
