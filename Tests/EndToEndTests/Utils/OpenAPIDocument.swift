import Foundation
import JobdModel
import Yams

/// `docs/openapi.yaml`, loaded: its operations, and checks of real requests and answers
/// against them.
struct OpenAPIDocument {
    static let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../docs/openapi.yaml").standardized

    /// One operation: a method on a path template.
    struct Operation {
        var method: String
        var path: String
        var definition: [String: JSONValue]

        var id: String? {
            if case .string(let id) = definition["operationId"] { id } else { nil }
        }
        var key: String { "\(method.uppercased()) \(path)" }
    }

    let root: JSONValue
    let operations: [Operation]

    init() throws {
        let text = try String(contentsOf: Self.url, encoding: .utf8)
        root = try Self.json(from: try Yams.load(yaml: text) as Any)
        guard case .object(let top) = root, case .object(let paths) = top["paths"] else {
            throw OpenAPIError(message: "no paths in \(Self.url.path)")
        }
        var operations: [Operation] = []
        for (path, item) in paths.sorted(by: { $0.key < $1.key }) {
            guard case .object(let methods) = item else { continue }
            for (method, definition) in methods.sorted(by: { $0.key < $1.key }) {
                guard case .object(let definition) = definition else { continue }
                operations.append(Operation(method: method, path: path, definition: definition))
            }
        }
        self.operations = operations
    }

    var validator: JSONSchemaValidator { JSONSchemaValidator(root: root) }

    /// The operation a request goes to: `GET /v1/jobs/12?x=1` is `GET /v1/jobs/{id}`.
    func operation(_ method: String, _ target: String) -> Operation? {
        let path = target.split(separator: "?", maxSplits: 1).first.map(String.init) ?? target
        let segments = path.split(separator: "/")
        return operations.first { operation in
            let template = operation.path.split(separator: "/")
            return operation.method == method.lowercased() && template.count == segments.count
                && zip(template, segments).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
        }
    }

    /// `$ref`s followed until a node without one.
    func resolved(_ node: JSONValue) -> JSONValue {
        if case .object(let members) = node, case .string(let reference) = members["$ref"],
            let target = validator.resolve(reference)
        {
            return resolved(target)
        }
        return node
    }

    /// What is wrong with an answer to `operation`: an undocumented status, another
    /// content type, or a body that its schema refuses. Empty when it is as documented.
    func answerErrors(_ operation: Operation, status: Int, contentType: String?, body: Data) -> [String] {
        guard case .object(let responses) = operation.definition["responses"],
            case .object(let response) = resolved(responses[String(status)] ?? .null)
        else { return ["\(operation.key): status \(status) is not documented"] }
        guard case .object(let contents) = response["content"] else {
            return body.isEmpty ? [] : ["\(operation.key) \(status): a body where none is documented"]
        }
        let mediaType = contentType?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        if contents[mediaType] == nil, contents["*/*"] != nil { return [] }
        guard case .object(let media) = contents[mediaType] else {
            return [
                "\(operation.key) \(status): content type \(mediaType) is not documented (\(contents.keys.sorted()))"
            ]
        }
        if mediaType == "application/json" {
            guard let value = try? JSONDecoder().decode(JSONValue.self, from: body) else {
                return ["\(operation.key) \(status): the body is not JSON"]
            }
            guard let schema = media["schema"] else { return ["\(operation.key) \(status): no schema"] }
            return validator.errors(value, schema).map { "\(operation.key) \(status): \($0)" }
        }
        return []
    }

    /// What the document refuses in a request: query parameters out of their schemas, or a
    /// JSON body its request schema refuses. Empty when the document accepts it.
    func requestErrors(_ operation: Operation, target: String, body: Data?) -> [String] {
        var failures: [String] = []
        var loose = validator
        loose.strictObjects = false
        let query = URLComponents(string: "http://localhost" + target)?.queryItems ?? []
        var parameters: [String: JSONValue] = [:]
        if case .array(let list) = operation.definition["parameters"] {
            for case .object(let parameter) in list.map(resolved) {
                if case .string(let name) = parameter["name"], parameter["in"] == .string("query") {
                    parameters[name] = parameter["schema"] ?? .bool(true)
                }
            }
        }
        for item in query {
            guard let schema = parameters[item.name] else {
                failures.append("query parameter \(item.name) is not documented")
                continue
            }
            let text = item.value ?? ""
            let type = resolved(schema)
            var value = JSONValue.string(text)
            if case .object(let keywords) = type, case .string(let name) = keywords["type"],
                name == "integer" || name == "number"
            {
                if let number = Int64(text) {
                    value = .int(number)
                } else if let number = Double(text), name == "number" {
                    value = .double(number)
                }
            }
            failures += loose.errors(value, schema, at: item.name)
        }
        if let body, case .object(let requestBody) = resolved(operation.definition["requestBody"] ?? .null),
            case .object(let contents) = requestBody["content"], case .object(let media) = contents["application/json"],
            let schema = media["schema"]
        {
            guard let value = try? JSONDecoder().decode(JSONValue.self, from: body) else { return ["body: not JSON"] }
            failures += loose.errors(value, schema, at: "body")
        }
        return failures
    }

    /// A YAML value (as Yams loads it) as JSON.
    static func json(from node: Any) throws -> JSONValue {
        switch node {
        case is NSNull: return .null
        case let value as Bool: return .bool(value)
        case let value as Int: return .int(Int64(value))
        case let value as Double: return .double(value)
        case let value as String: return .string(value)
        case let value as [Any]: return .array(try value.map(json(from:)))
        case let value as [String: Any]: return .object(try value.mapValues(json(from:)))
        case let value as [AnyHashable: Any]:
            var members: [String: JSONValue] = [:]
            for (key, member) in value { members["\(key)"] = try json(from: member) }
            return .object(members)
        default:
            throw OpenAPIError(message: "a YAML value of type \(type(of: node)): \(node)")
        }
    }
}

struct OpenAPIError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
