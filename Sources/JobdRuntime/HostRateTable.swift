import Foundation

/// Which rate limits which fetch host: `limits.host_rates` entries by `host:port` or by
/// host (any port), and `limits.per_host_rate` for every other `host:port`.
///
/// Hosts are compared lower-cased, as `FetchSpec.hostKey` writes them. An IPv6 address
/// takes brackets when a port follows (`[::1]:8080`).
public struct HostRateTable: Sendable, Hashable {
    /// One entry's key: a host, and the port it applies to (nil: any port).
    public struct HostPattern: Sendable, Hashable, Comparable, CustomStringConvertible {
        /// The host, lower-cased; an IPv6 address without brackets.
        public var host: String
        /// The port; nil matches every port of `host`.
        public var port: Int?

        public init(host: String, port: Int?) {
            self.host = host
            self.port = port
        }

        /// `api.example.com`, `127.0.0.1:8080`, `[::1]:8080`: parses back to the same pattern.
        public var description: String {
            guard let port else { return host }
            return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }

        public static func < (lhs: HostPattern, rhs: HostPattern) -> Bool {
            (lhs.host, lhs.port ?? 0) < (rhs.host, rhs.port ?? 0)
        }
    }

    /// Why a host key is refused; `reason` quotes it.
    public struct InvalidHost: Error, Sendable, CustomStringConvertible {
        /// Why, with the key.
        public var reason: String
        public var description: String { reason }
    }

    /// The rate of every `host:port` without an entry; nil: none.
    public var perHost: RateLimit?
    /// The entries, by host and port.
    public var entries: [HostPattern: RateLimit]

    /// No rate limits at all.
    public init() {
        perHost = nil
        entries = [:]
    }

    /// A table of `perHost` and the entries of `hosts`, whose keys are normalized.
    ///
    /// - Throws: `InvalidHost` for a key that is not `host` or `host:port`, or two keys
    ///   naming the same host (`API.example.com` and `api.example.com`).
    public init(perHost: RateLimit?, hosts: [String: RateLimit]) throws {
        self.perHost = perHost
        var entries: [HostPattern: RateLimit] = [:]
        var spelled: [HostPattern: String] = [:]
        for (key, rate) in hosts.sorted(by: { $0.key < $1.key }) {
            let normalized = try Self.pattern(key)
            if let earlier = spelled[normalized] {
                throw InvalidHost(reason: "\(earlier.debugDescription) and \(key.debugDescription) name the same host")
            }
            spelled[normalized] = key
            entries[normalized] = rate
        }
        self.entries = entries
    }

    /// A table of `perHost` and `entries`.
    public init(perHost: RateLimit?, entries: [HostPattern: RateLimit]) {
        self.perHost = perHost
        self.entries = entries
    }

    /// True when no host has a rate.
    public var isEmpty: Bool { perHost == nil && entries.isEmpty }

    /// The rate of a job's `host:port` (`FetchSpec.hostKey`): its own entry, else its
    /// host's, else `perHost`.
    public func rate(for hostKey: String) -> RateLimit? {
        // A job's key always ends in its port, after the last colon (IPv6 addresses too).
        guard !entries.isEmpty, let colon = hostKey.lastIndex(of: ":") else { return perHost }
        var name = hostKey[..<colon]
        // Foundation may keep an IPv6 literal's brackets in the host; the patterns never do.
        if name.hasPrefix("["), name.hasSuffix("]") { name = name.dropFirst().dropLast() }
        let host = String(name)
        let port = Int(hostKey[hostKey.index(after: colon)...])
        return entries[HostPattern(host: host, port: port)] ?? entries[HostPattern(host: host, port: nil)] ?? perHost
    }

    /// A configuration key as a pattern: lower-cased, `host:port` or a host alone.
    ///
    /// `api.example.com`, `API.example.com:8443`, `127.0.0.1:8080`, `[::1]:8080`, and
    /// `::1` or `[::1]` (any port).
    ///
    /// - Throws: `InvalidHost` for an empty key, a bad port, a scheme or path, or spaces.
    public static func pattern(_ key: String) throws -> HostPattern {
        let text = key.trimmingCharacters(in: .whitespaces).lowercased()
        let quoted = key.debugDescription
        guard !text.isEmpty else { throw InvalidHost(reason: "a host may not be empty") }
        guard !text.contains(where: { $0 == "/" || $0 == "@" || $0 == "?" || $0 == "#" || $0.isWhitespace }) else {
            throw InvalidHost(reason: "\(quoted) is not a host or host:port (no scheme or path)")
        }
        var host = text
        var port: Substring?
        if text.hasPrefix("[") {
            // A bracketed IPv6 address, with or without a port.
            guard let close = text.firstIndex(of: "]") else {
                throw InvalidHost(reason: "\(quoted) has no closing ]")
            }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw InvalidHost(reason: "\(quoted) is not [address]:port") }
                port = rest.dropFirst()
            }
        } else if let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") {
            // One colon: host:port. More than one, unbracketed: an IPv6 address alone.
            host = String(text[..<colon])
            port = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, !host.contains("[") && !host.contains("]") else {
            throw InvalidHost(reason: "\(quoted) is not a host or host:port")
        }
        guard let port else { return HostPattern(host: host, port: nil) }
        guard let number = Int(port), (1...65_535).contains(number), port.allSatisfy(\.isNumber) else {
            throw InvalidHost(reason: "\(quoted): the port must be 1 to 65535")
        }
        return HostPattern(host: host, port: number)
    }
}
