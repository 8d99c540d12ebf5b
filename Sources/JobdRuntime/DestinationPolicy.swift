import AsyncHTTPClient
import Foundation
import JobdModel
import NIOCore
import NIOPosix

/// Networks a fetch may not connect to, checked on the address actually connected.
///
/// The check runs when a connection is established (redirects and every retry
/// included), on the socket's real peer address, so DNS tricks (a public name that
/// resolves to 169.254.169.254, or re-resolves to it later) cannot get around it. The
/// connection is closed before a byte of the request is sent.
public struct DestinationPolicy: Sendable {
    /// One network in CIDR form.
    public struct Network: Sendable, Hashable, CustomStringConvertible {
        let bytes: [UInt8]
        let prefixLength: Int
        public let description: String

        /// Parses `169.254.0.0/16`, `fe80::/10` or a bare address (a /32 or /128).
        public init?(_ text: String) {
            let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
            guard let addressText = parts.first, let bytes = Self.parseAddress(addressText) else { return nil }
            let maximum = bytes.count * 8
            let length = parts.count == 2 ? Int(parts[1]) : maximum
            guard let length, (0...maximum).contains(length) else { return nil }
            self.bytes = bytes
            self.prefixLength = length
            self.description = text
        }

        /// Whether `address` (4 or 16 bytes) lies in this network. An IPv4-mapped IPv6
        /// address (`::ffff:a.b.c.d`) is checked as its IPv4 address.
        func contains(_ address: [UInt8]) -> Bool {
            var address = address
            if address.count == 16, bytes.count == 4, address[0..<10].allSatisfy({ $0 == 0 }),
                address[10] == 0xff, address[11] == 0xff
            {
                address = Array(address[12..<16])
            }
            guard address.count == bytes.count else { return false }
            var remaining = prefixLength
            for index in 0..<bytes.count where remaining > 0 {
                let bits = min(8, remaining)
                let mask = UInt8(truncatingIfNeeded: 0xff << (8 - bits))
                if address[index] & mask != bytes[index] & mask { return false }
                remaining -= bits
            }
            return true
        }

        static func parseAddress(_ text: String) -> [UInt8]? {
            var v4 = in_addr()
            if inet_pton(AF_INET, text, &v4) == 1 {
                return withUnsafeBytes(of: &v4) { Array($0) }
            }
            var v6 = in6_addr()
            if inet_pton(AF_INET6, text, &v6) == 1 {
                return withUnsafeBytes(of: &v6) { Array($0) }
            }
            return nil
        }
    }

    /// The denied networks.
    public let networks: [Network]

    /// Parses a list of CIDRs.
    ///
    /// - Throws: `InvalidNetwork` naming the first entry that does not parse.
    public init(deniedNetworks: [String]) throws {
        networks = try deniedNetworks.map { text in
            guard let network = Network(text) else { throw InvalidNetwork(text: text) }
            return network
        }
    }

    /// A CIDR that does not parse.
    public struct InvalidNetwork: Error, CustomStringConvertible {
        public var text: String
        public var description: String {
            "\(text.debugDescription) is not an IP network in CIDR form (10.0.0.0/8, fe80::/10)"
        }
    }

    /// The denied network holding `address`, if any.
    public func deniedNetwork(for address: SocketAddress) -> Network? {
        let bytes: [UInt8]
        switch address {
        case .v4(let v4):
            var raw = v4.address.sin_addr
            bytes = withUnsafeBytes(of: &raw) { Array($0) }
        case .v6(let v6):
            var raw = v6.address.sin6_addr
            bytes = withUnsafeBytes(of: &raw) { Array($0) }
        default:
            return nil
        }
        return networks.first { $0.contains(bytes) }
    }

    /// Adds the connection-time check to an HTTP client configuration: a connection whose
    /// peer is in a denied network is closed before a byte of the request is sent.
    ///
    /// This backs up `check(url:)`, which runs before connecting: between the two, a name
    /// could resolve differently (DNS rebinding).
    public func apply(to configuration: inout HTTPClient.Configuration) {
        guard !networks.isEmpty else { return }
        let policy = self
        let check: @Sendable (any Channel) -> EventLoopFuture<Void> = { channel in
            guard let remote = channel.remoteAddress, let network = policy.deniedNetwork(for: remote) else {
                return channel.eventLoop.makeSucceededVoidFuture()
            }
            channel.close(promise: nil)
            return channel.eventLoop.makeFailedFuture(
                BlockedDestination(address: remote.ipAddress ?? "\(remote)", network: network.description))
        }
        configuration.http1_1ConnectionDebugInitializer = check
        configuration.http2ConnectionDebugInitializer = check
    }

    /// Checks a URL's host before connecting: an IP literal directly, a name by resolving
    /// it (on NIO's thread pool) and checking every address.
    ///
    /// Nothing is sent to a denied address, not even a TCP SYN.
    ///
    /// - Throws: `BlockedDestination`, or `ExecutionFailure` `dns_failed` when the name does
    ///   not resolve.
    public func check(url: String) async throws {
        guard !networks.isEmpty, let components = URLComponents(string: url), var host = components.host,
            !host.isEmpty
        else { return }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if let bytes = Network.parseAddress(host) {
            if let network = networks.first(where: { $0.contains(bytes) }) {
                throw BlockedDestination(address: host, network: network.description)
            }
            return
        }
        let port = components.port ?? (components.scheme?.lowercased() == "https" ? 443 : 80)
        let name = host
        let addresses = try await NIOThreadPool.singleton.runIfActive { () throws -> [SocketAddress] in
            do {
                return try Self.resolve(host: name, port: port)
            } catch {
                throw ExecutionFailure(.dnsFailed, "cannot resolve \(name)")
            }
        }
        for address in addresses {
            if let network = deniedNetwork(for: address) {
                throw BlockedDestination(address: "\(host) (\(address.ipAddress ?? "?"))", network: network.description)
            }
        }
    }

    /// Blocking getaddrinfo: call on a thread that may block.
    static func resolve(host: String, port: Int) throws -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let first = result else {
            throw SocketAddressError.unknown(host: host, port: port)
        }
        defer { freeaddrinfo(first) }
        var addresses: [SocketAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            if let address = info.pointee.ai_addr {
                switch Int32(info.pointee.ai_family) {
                case AF_INET:
                    address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                        addresses.append(SocketAddress($0.pointee, host: host))
                    }
                case AF_INET6:
                    address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                        addresses.append(SocketAddress($0.pointee, host: host))
                    }
                default: break
                }
            }
            cursor = info.pointee.ai_next
        }
        return addresses
    }
}

/// A fetch connected to an address in a denied network; the connection was closed.
public struct BlockedDestination: Error, Sendable, CustomStringConvertible {
    /// The address connected to.
    public var address: String
    /// The denied network it is in.
    public var network: String
    public var description: String { "\(address) is in the denied network \(network)" }
}
