import Foundation

// `dashboard.listen`: a loopback address and port for the dashboard's TCP listener.
extension ConfigurationParser {
    /// A loopback listen address (`127.0.0.1:8765`, `[::1]:8765`, `localhost:0`), or nil
    /// for null (no listener).
    ///
    /// Only loopback is accepted: the listener has no peer credentials, and a token in a
    /// URL must never cross a network.
    static func loopbackListen(_ raw: RawSetting) throws -> ListenAddress? {
        guard let text = try optionalText(raw) else { return nil }
        guard let colon = text.lastIndex(of: ":") else {
            throw InvalidValue("\(text.debugDescription) is not host:port (like 127.0.0.1:8765)")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw InvalidValue("\(text.debugDescription): the port must be a number from 0 to 65535")
        }
        switch host.lowercased() {
        case "127.0.0.1", "localhost": return ListenAddress(host: "127.0.0.1", port: port)
        case "::1": return ListenAddress(host: "::1", port: port)
        default:
            throw InvalidValue(
                "\(text.debugDescription): the dashboard listens on loopback only (127.0.0.1, [::1] or localhost)")
        }
    }
}

/// A host and port to listen on.
struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    var host: String
    var port: Int

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
