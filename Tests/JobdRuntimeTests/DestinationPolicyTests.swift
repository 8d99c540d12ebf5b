import JobdRuntime
import NIOCore
import Testing

@Suite struct DestinationPolicyTests {
    @Test("denied networks match by prefix, IPv4, IPv6 and IPv4-mapped IPv6")
    func matching() throws {
        let policy = try DestinationPolicy(deniedNetworks: ["169.254.0.0/16", "fe80::/10", "10.1.2.3"])
        func denied(_ ip: String) throws -> Bool {
            policy.deniedNetwork(for: try SocketAddress(ipAddress: ip, port: 80)) != nil
        }
        #expect(try denied("169.254.169.254"))
        #expect(try denied("169.254.0.1"))
        #expect(try !denied("169.255.0.1"))
        #expect(try !denied("127.0.0.1"))
        #expect(try denied("fe80::1"))
        #expect(try denied("febf::1"))
        #expect(try !denied("fec0::1"))
        #expect(try denied("::ffff:169.254.1.1"))
        #expect(try denied("10.1.2.3"))
        #expect(try !denied("10.1.2.4"))
    }

    @Test("a network that does not parse is refused with its text")
    func invalid() {
        #expect(throws: DestinationPolicy.InvalidNetwork.self) {
            try DestinationPolicy(deniedNetworks: ["169.254.0.0/33"])
        }
        #expect(throws: DestinationPolicy.InvalidNetwork.self) { try DestinationPolicy(deniedNetworks: ["not-a-net"]) }
    }

    @Test("URL checks refuse denied IP literals before any connection")
    func literal() async throws {
        let policy = try DestinationPolicy(deniedNetworks: ["169.254.0.0/16", "fe80::/10"])
        await #expect(throws: BlockedDestination.self) { try await policy.check(url: "http://169.254.169.254/") }
        await #expect(throws: BlockedDestination.self) { try await policy.check(url: "http://[fe80::1]:8080/") }
        try await policy.check(url: "http://127.0.0.1:9/")
    }
}
