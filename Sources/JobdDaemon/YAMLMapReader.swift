import Yams

/// Reads one mapping of a YAML file with its keys intact: what a map key
/// (`limits.host_rates`) holds.
///
/// swift-configuration's `YAMLSnapshot` flattens nested mappings into dotted key names
/// (`limits.host_rates.127.0.0.1:8080`), so a map whose own keys hold dots and colons
/// (`api.example.com`, `127.0.0.1:8080`) cannot be told apart from deeper nesting there
/// (`{"api.example.com": {"x": "2/s"}}` flattens the same as a host `api.example.com.x`).
/// This reads the file's node tree through Yams, the parser the snapshot uses, instead.
enum YAMLMapReader {
    /// The scalars of the mapping at `components` (`["limits", "host_rates"]`), by key;
    /// nil when the file has no mapping there.
    ///
    /// - Throws: `InvalidValue` when a key is not a scalar or a value is not one (a list,
    ///   a nested mapping), naming the key; a Yams error when the text is not YAML.
    static func map(at components: [String], in text: String) throws -> [String: String]? {
        guard var node = try Yams.compose(yaml: text) else { return nil }
        for component in components {
            guard let mapping = node.mapping,
                let child = mapping.first(where: { $0.key.string == component })?.value
            else { return nil }
            node = child
        }
        guard let mapping = node.mapping else { return nil }
        var values: [String: String] = [:]
        for (key, value) in mapping {
            guard let name = key.string else {
                throw InvalidValue("a key of the map is not a single value")
            }
            guard let scalar = value.scalar else {
                let shape = value.mapping != nil ? "a map" : "a list"
                throw InvalidValue(#"\#(name.debugDescription): expected a rate like "20/s", not \#(shape)"#)
            }
            values[name] = scalar.string
        }
        return values
    }
}
