import Foundation

/// A PostgreSQL address in libpq's URL form, as `database.url` gives it:
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?host=/run/postgresql&sslmode=…]`.
///
/// A `host` query parameter that starts with `/` names the directory of the server's Unix
/// socket (libpq's convention); the socket is `DIR/.s.PGSQL.PORT`. The password is kept
/// apart from everything that is printed: `description` masks it.
public struct DatabaseURL: Sendable, Equatable, CustomStringConvertible {
    /// Whether and how TLS is used (`sslmode`): `disable`, `prefer` (the default, as libpq),
    /// `require`.
    public enum TLSMode: String, Sendable, Equatable, CaseIterable {
        case disable, prefer, require
    }

    /// The user to connect as.
    public var user: String
    /// The password in the URL, if any.
    public var password: String?
    /// The server's host name or address; nil with a socket directory.
    public var host: String?
    /// The directory of the server's Unix socket; nil for TCP.
    public var socketDirectory: String?
    /// The server's port (5432 unless given).
    public var port: Int
    /// The database.
    public var database: String
    /// TLS.
    public var tls: TLSMode

    /// Parses a URL.
    ///
    /// - Throws: `DatabaseURL.ParseError` saying what is wrong, never echoing the password.
    public init(parsing text: String) throws {
        guard let components = URLComponents(string: text), let scheme = components.scheme else {
            throw ParseError("is not a URL (expected postgres://USER@HOST:PORT/DATABASE)")
        }
        guard scheme == "postgres" || scheme == "postgresql" else {
            throw ParseError("has the scheme \(scheme)://; jobd speaks postgres:// (or postgresql://)")
        }
        var socketDirectory: String?
        var tls = TLSMode.prefer
        var user = components.percentEncodedUser?.removingPercentEncoding
        for item in components.queryItems ?? [] {
            switch item.name {
            case "host":
                guard let value = item.value, value.hasPrefix("/") else {
                    throw ParseError("has host= without a socket directory (it must start with /)")
                }
                socketDirectory = value
            case "sslmode":
                guard let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                    throw ParseError(
                        "has sslmode=\(item.value ?? ""); jobd knows \(TLSMode.allCases.map(\.rawValue).joined(separator: ", "))"
                    )
                }
                tls = mode
            case "user":
                user = item.value
            default:
                throw ParseError("has the parameter \(item.name), which jobd does not know (host, sslmode, user)")
            }
        }
        let host = components.host.flatMap { $0.isEmpty ? nil : $0 }
        guard host != nil || socketDirectory != nil else {
            throw ParseError("names no host (postgres://USER@HOST/DATABASE, or ?host=/socket/dir)")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw ParseError("names no database (postgres://USER@HOST/DATABASE)")
        }
        guard let user, !user.isEmpty else {
            throw ParseError("names no user (postgres://USER@HOST/DATABASE)")
        }
        self.user = user
        self.password = components.percentEncodedPassword?.removingPercentEncoding
        self.host = socketDirectory == nil ? host : nil
        self.socketDirectory = socketDirectory
        self.port = components.port ?? 5432
        self.database = database
        self.tls = tls
    }

    /// The Unix socket's path, when the URL names a socket directory.
    public var socketPath: String? {
        socketDirectory.map { "\($0)/.s.PGSQL.\(port)" }
    }

    /// Where the server is, for messages: `HOST:PORT` or the socket's path.
    public var server: String {
        socketPath ?? "\(host ?? "?"):\(port)"
    }

    /// The URL with its password masked (`****`): safe to log and to show.
    public var description: String {
        var text = "postgres://\(user)"
        if password != nil { text += ":****" }
        text += "@\(host ?? "")"
        if host != nil { text += ":\(port)" }
        text += "/\(database)"
        var query: [String] = []
        if let socketDirectory { query.append("host=\(socketDirectory)") }
        if socketDirectory != nil && port != 5432 { text = text.replacingOccurrences(of: "@/", with: "@:\(port)/") }
        if tls != .prefer { query.append("sslmode=\(tls.rawValue)") }
        if !query.isEmpty { text += "?" + query.joined(separator: "&") }
        return text
    }

    /// What is wrong with a URL.
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }
}
