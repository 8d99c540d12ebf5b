import Foundation
import JobdModel

/// Validates JSON against the JSON Schema subset `docs/openapi.yaml` uses (OpenAPI 3.2,
/// JSON Schema 2020-12).
///
/// A keyword the validator does not know is itself a failure, so the document cannot
/// lean on a rule that nothing checks. With `strictObjects`, an object schema that lists
/// `properties` and says nothing of `additionalProperties` refuses keys it does not list:
/// an undocumented field in an answer is a contract failure too.
struct JSONSchemaValidator {
    /// The whole document, for `$ref`s (`#/components/schemas/JobRecord`).
    let root: JSONValue
    /// Refuse undocumented keys of objects (for answers; requests follow the schema as written).
    var strictObjects = true

    static let knownKeywords: Set<String> = [
        "$ref", "type", "enum", "const", "properties", "required", "additionalProperties", "items", "minItems",
        "maxItems", "uniqueItems", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength",
        "maxLength", "pattern", "oneOf", "anyOf", "allOf", "format", "contentMediaType", "contentSchema",
        "description", "default", "example",
    ]

    /// The failures of `value` against `schema`, each naming where (`$.jobs[2].state`);
    /// empty when it is valid.
    func errors(_ value: JSONValue, _ schema: JSONValue, at path: String = "$") -> [String] {
        errors(value, schema, at: path, extraKeys: [])
    }

    /// The schema a `$ref` points to.
    func resolve(_ reference: String) -> JSONValue? {
        guard reference.hasPrefix("#/") else { return nil }
        var node = root
        for part in reference.dropFirst(2).split(separator: "/") {
            guard case .object(let members) = node, let next = members[String(part)] else { return nil }
            node = next
        }
        return node
    }

    /// The property names an object schema lists, through `$ref` and `allOf`.
    func propertyNames(of schema: JSONValue) -> Set<String> {
        guard case .object(let keywords) = schema else { return [] }
        if case .string(let reference) = keywords["$ref"], let target = resolve(reference) {
            return propertyNames(of: target)
        }
        var names: Set<String> = []
        if case .object(let properties) = keywords["properties"] { names.formUnion(properties.keys) }
        if case .array(let parts) = keywords["allOf"] {
            for part in parts { names.formUnion(propertyNames(of: part)) }
        }
        return names
    }

    private func errors(_ value: JSONValue, _ schema: JSONValue, at path: String, extraKeys: Set<String>) -> [String] {
        guard case .object(let keywords) = schema else {
            return schema == .bool(true) ? [] : ["\(path): schema is not an object: \(schema)"]
        }
        if let unknown = keywords.keys.first(where: { !Self.knownKeywords.contains($0) }) {
            return ["\(path): the validator does not know the keyword '\(unknown)'"]
        }
        var failures: [String] = []
        if case .string(let reference) = keywords["$ref"] {
            guard let target = resolve(reference) else { return ["\(path): unresolved $ref \(reference)"] }
            failures += errors(value, target, at: path, extraKeys: extraKeys)
        }
        if case .array(let parts) = keywords["allOf"] {
            let union = propertyNames(of: schema).union(extraKeys)
            for part in parts { failures += errors(value, part, at: path, extraKeys: union) }
        }
        if case .array(let parts) = keywords["oneOf"] {
            let matching = parts.filter { errors(value, $0, at: path, extraKeys: extraKeys).isEmpty }.count
            if matching != 1 { failures.append("\(path): matches \(matching) of oneOf's \(parts.count) schemas") }
        }
        if case .array(let parts) = keywords["anyOf"],
            !parts.contains(where: { errors(value, $0, at: path, extraKeys: extraKeys).isEmpty })
        {
            failures.append("\(path): matches none of anyOf's schemas")
        }
        if let expected = keywords["type"] {
            let types: [String] =
                switch expected {
                case .string(let name): [name]
                case .array(let names): names.compactMap { if case .string(let name) = $0 { name } else { nil } }
                default: []
                }
            if !types.contains(where: { Self.has(value, type: $0) }) {
                return failures + ["\(path): \(Self.describe(value)) is not of type \(types.joined(separator: "|"))"]
            }
        }
        if case .array(let members) = keywords["enum"], !members.contains(where: { Self.equal($0, value) }) {
            failures.append("\(path): \(Self.describe(value)) is not one of \(members)")
        }
        if let constant = keywords["const"], !Self.equal(constant, value) {
            failures.append("\(path): \(Self.describe(value)) is not \(constant)")
        }
        failures += numberErrors(value, keywords, at: path)
        failures += stringErrors(value, keywords, at: path)
        failures += arrayErrors(value, keywords, at: path)
        failures += objectErrors(value, keywords, at: path, extraKeys: extraKeys)
        return failures
    }

    private func numberErrors(_ value: JSONValue, _ keywords: [String: JSONValue], at path: String) -> [String] {
        guard let number = Self.number(value) else { return [] }
        var failures: [String] = []
        if let minimum = keywords["minimum"].flatMap(Self.number), number < minimum {
            failures.append("\(path): \(number) is below the minimum \(minimum)")
        }
        if let maximum = keywords["maximum"].flatMap(Self.number), number > maximum {
            failures.append("\(path): \(number) is above the maximum \(maximum)")
        }
        if let bound = keywords["exclusiveMinimum"].flatMap(Self.number), number <= bound {
            failures.append("\(path): \(number) is not above \(bound)")
        }
        if let bound = keywords["exclusiveMaximum"].flatMap(Self.number), number >= bound {
            failures.append("\(path): \(number) is not below \(bound)")
        }
        return failures
    }

    private func stringErrors(_ value: JSONValue, _ keywords: [String: JSONValue], at path: String) -> [String] {
        guard case .string(let text) = value else { return [] }
        var failures: [String] = []
        // JSON Schema counts characters (code points).
        let length = text.unicodeScalars.count
        if let minimum = keywords["minLength"].flatMap(Self.number), Double(length) < minimum {
            failures.append("\(path): \(text.debugDescription) is shorter than \(Int(minimum))")
        }
        if let maximum = keywords["maxLength"].flatMap(Self.number), Double(length) > maximum {
            failures.append("\(path): \(text.debugDescription) is longer than \(Int(maximum))")
        }
        if case .string(let pattern) = keywords["pattern"] {
            if let expression = try? NSRegularExpression(pattern: pattern) {
                let range = NSRange(text.startIndex..., in: text)
                if expression.firstMatch(in: text, range: range) == nil {
                    failures.append("\(path): \(text.debugDescription) does not match \(pattern)")
                }
            } else {
                failures.append("\(path): the pattern \(pattern) does not compile")
            }
        }
        if keywords["format"] == .string("date-time"), !Self.isDateTime(text) {
            failures.append("\(path): \(text.debugDescription) is not an RFC 3339 date-time")
        }
        if let schema = keywords["contentSchema"] {
            guard keywords["contentMediaType"] == .string("application/json"),
                let decoded = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
            else { return failures + ["\(path): \(text.debugDescription) is not JSON"] }
            failures += errors(decoded, schema, at: path + "<json>")
        }
        return failures
    }

    private func arrayErrors(_ value: JSONValue, _ keywords: [String: JSONValue], at path: String) -> [String] {
        guard case .array(let items) = value else { return [] }
        var failures: [String] = []
        if let minimum = keywords["minItems"].flatMap(Self.number), Double(items.count) < minimum {
            failures.append("\(path): \(items.count) items, fewer than \(Int(minimum))")
        }
        if let maximum = keywords["maxItems"].flatMap(Self.number), Double(items.count) > maximum {
            failures.append("\(path): \(items.count) items, more than \(Int(maximum))")
        }
        if keywords["uniqueItems"] == .bool(true), Set(items).count != items.count {
            failures.append("\(path): items repeat")
        }
        if let itemSchema = keywords["items"] {
            for (index, item) in items.enumerated() {
                failures += errors(item, itemSchema, at: "\(path)[\(index)]")
            }
        }
        return failures
    }

    private func objectErrors(
        _ value: JSONValue, _ keywords: [String: JSONValue], at path: String, extraKeys: Set<String>
    ) -> [String] {
        guard case .object(let members) = value else { return [] }
        var failures: [String] = []
        if case .array(let required) = keywords["required"] {
            for case .string(let name) in required where members[name] == nil {
                failures.append("\(path): the required '\(name)' is missing")
            }
        }
        var listed: [String: JSONValue] = [:]
        if case .object(let properties) = keywords["properties"] { listed = properties }
        for (name, member) in members.sorted(by: { $0.key < $1.key }) {
            if let schema = listed[name] {
                failures += errors(member, schema, at: "\(path).\(name)")
            } else if let additional = keywords["additionalProperties"] {
                if additional == .bool(false), !extraKeys.contains(name) {
                    failures.append("\(path): '\(name)' is not allowed")
                } else if case .object = additional {
                    failures += errors(member, additional, at: "\(path).\(name)")
                }
            } else if strictObjects, keywords["properties"] != nil, !extraKeys.contains(name) {
                failures.append("\(path): '\(name)' is not documented")
            }
        }
        return failures
    }

    static func has(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object): true
        case ("integer", .int): true
        case ("integer", .double(let number)): number.rounded() == number
        case ("number", .int), ("number", .double): true
        default: false
        }
    }

    static func number(_ value: JSONValue) -> Double? {
        switch value {
        case .int(let number): Double(number)
        case .double(let number): number
        default: nil
        }
    }

    static func equal(_ left: JSONValue, _ right: JSONValue) -> Bool {
        if let a = number(left), let b = number(right) { return a == b }
        return left == right
    }

    static func describe(_ value: JSONValue) -> String {
        let data = (try? JSONEncoder().encode(value)) ?? Data()
        let text = String(decoding: data, as: UTF8.self)
        return text.count > 80 ? String(text.prefix(80)) + "…" : text
    }

    /// RFC 3339 `date-time`: `2026-12-07T10:00:00Z`, fractions and offsets allowed.
    static func isDateTime(_ text: String) -> Bool {
        let pattern = #"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"#
        return text.range(of: pattern, options: .regularExpression) != nil
    }
}
