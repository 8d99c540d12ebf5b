import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP listener on the loopback interface that forwards each connection to jobd's Unix
/// socket, byte for byte.
///
/// `jobctl dashboard` runs one so that a browser can reach the socket. Every forwarded
/// connection is opened by this process, so jobd sees this process's uid and pid
/// (`SO_PEERCRED`): it knows them as a dashboard session's and requires the session's
/// token or cookie on each request (the forwarder itself checks nothing: the secrets
/// are checked where the session lives). A connection whose socket side cannot be opened
/// is closed.
public struct LoopbackForwarder: Sendable {
    /// The socket to forward to.
    public var socketPath: String
    /// The loopback address to listen on.
    public var host: String
    /// The port; 0 picks a free one.
    public var port: Int

    /// Makes a forwarder; nothing listens until `run(onListening:)`.
    public init(socketPath: String, host: String = "127.0.0.1", port: Int = 0) {
        self.socketPath = socketPath
        self.host = host
        self.port = port
    }

    /// Listens and forwards until cancelled.
    ///
    /// - Parameter onListening: Called once with the bound port, before any connection
    ///   is accepted.
    /// - Throws: When the address cannot be bound (the port is taken).
    public func run(onListening: @Sendable (Int) async throws -> Void) async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        try await onListening(server.channel.localAddress?.port ?? port)
        let socketPath = self.socketPath
        try await server.executeThenClose { inbound in
            try await withThrowingDiscardingTaskGroup { group in
                for try await connection in inbound {
                    group.addTask { await Self.forward(connection, to: socketPath) }
                }
            }
        }
    }

    /// Copies bytes both ways until either side closes, then closes both.
    static func forward(_ client: NIOAsyncChannel<ByteBuffer, ByteBuffer>, to socketPath: String) async {
        guard let local = client.channel.localAddress?.port, let remote = client.channel.remoteAddress?.port,
            let owner = await LoopbackPeer.uid(localPort: local, remotePort: remote),
            owner == getuid() || owner == 0
        else {
            try? await client.channel.close()
            return
        }
        do {
            let upstream = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(unixDomainSocketPath: socketPath) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
            try await client.executeThenClose { clientIn, clientOut in
                try await upstream.executeThenClose { upstreamIn, upstreamOut in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for try await bytes in clientIn { try await upstreamOut.write(bytes) }
                        }
                        group.addTask {
                            for try await bytes in upstreamIn { try await clientOut.write(bytes) }
                        }
                        // One side ended (a browser closed its tab, jobd closed after
                        // `Connection: close`): end the other.
                        try await group.next()
                        group.cancelAll()
                    }
                }
            }
        } catch {
            try? await client.channel.close()
        }
    }
}
