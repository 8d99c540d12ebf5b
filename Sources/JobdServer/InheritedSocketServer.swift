import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// Hummingbird's accept loop on a listening socket that another process bound (systemd's,
/// under socket activation).
///
/// Hummingbird's `Server` only binds addresses it is given; this does what it does (one
/// child task per connection, `ServerChildChannel.setup` and `handle`, quiescing the
/// connections at graceful shutdown) around NIO's `ServerBootstrap.bind(_:)`, which adopts
/// a listening descriptor. The socket file is never unlinked or chmodded: systemd's
/// `SocketMode=`/`SocketGroup=` set it, and it outlives this process. Every connection
/// goes through the same `JobdHTTPChannel` as on jobd's own socket: peer credentials,
/// admission, access rules.
struct InheritedSocketServer<ChildChannel: ServerChildChannel> {
    let descriptor: Int32
    let backlog: Int32
    let childChannel: ChildChannel
    let handoff: ListenerHandoff
    let logger: Logger
    let onServerRunning: @Sendable (any Channel) async -> Void

    func run() async throws {
        let handoff = self.handoff
        let childChannel = self.childChannel
        let logger = self.logger
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptGate(handoff: handoff))
                }
            }
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
        let server = try await bootstrap.bind(NIOBSDSocket.Handle(descriptor)) { channel in
            childChannel.setup(channel: channel, logger: logger)
        }
        // NIO listens again with its default backlog (128) when it adopts the socket:
        // restore jobd's, which is also the unit's Backlog= (the kernel caps both at
        // net.core.somaxconn).
        _ = listen(descriptor, backlog)
        handoff.listening(on: server.channel)
        await withGracefulShutdownHandler {
            await onServerRunning(server.channel)
            await withDiscardingTaskGroup { group in
                do {
                    try await server.executeThenClose { inbound in
                        for try await connection in inbound {
                            group.addTask { await childChannel.handle(value: connection, logger: logger) }
                        }
                    }
                } catch {
                    logger.error("accepting connections failed", metadata: ["error": "\(error)"])
                }
            }
            // The hand-off closes the listener before this service's turn to stop, which
            // ends the loop early: returning then would read to ServiceGroup as a crash.
            try? await gracefulShutdown()
        } onGracefulShutdown: {
            handoff.quiesce()
        }
    }
}

/// Registers each accepted connection with the hand-off, on the listener's event loop,
/// before NIO sets the connection up; once the hand-off stopped accepting, drops the
/// listener's reads, so the kernel keeps new connections in the socket's backlog.
///
/// It sits at the head end of the listener's pipeline, so it sees every read: autoRead's
/// and those of NIOAsyncChannel's back-pressure.
private final class AcceptGate: ChannelDuplexHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel
    typealias OutboundIn = Never

    let handoff: ListenerHandoff

    init(handoff: ListenerHandoff) {
        self.handoff = handoff
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        handoff.accepted(unwrapInboundIn(data))
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        guard handoff.isAccepting else { return }
        context.read()
    }
}
