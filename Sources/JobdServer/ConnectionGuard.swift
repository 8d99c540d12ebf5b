import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import JobdModel
import Logging
import NIOCore
import NIOHTTPTypes
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

extension APIError.Code {
    /// The daemon is at `server.max_connections`, or the peer's uid at
    /// `server.max_connections_per_uid`: the connection is answered and closed at once. 503.
    public static let tooManyConnections = APIError.Code(rawValue: "too_many_connections")
}

/// Counts open connections, in total and per peer uid, and decides who may open one more.
///
/// Root and the daemon's own uid (the operator) are exempt from the per-uid cap and may
/// open `reserve` connections past the global cap, so a flood by one user locks out
/// neither the other users (per-uid cap) nor the operator (reserve).
final class ConnectionAdmission: Sendable {
    struct Limits: Sendable {
        var maxConnections: Int
        var maxPerUID: Int?
        var reserve: Int
        var privilegedUIDs: Set<UInt32>
    }

    private struct State {
        var open = 0
        var perUID: [UInt32: Int] = [:]
        var refusedSinceLog = 0
        var lastLog: ContinuousClock.Instant?
    }

    let limits: Limits
    private let logger: Logger
    private let state = Mutex(State())

    init(limits: Limits, logger: Logger) {
        self.limits = limits
        self.logger = logger
    }

    /// Connections open now.
    var open: Int { state.withLock { $0.open } }

    /// Counts a new connection from `uid` (nil: credentials unreadable) and returns nil,
    /// or returns why it is refused (then nothing is counted).
    func admit(uid: UInt32?) -> String? {
        let privileged = uid.map { limits.privilegedUIDs.contains($0) } ?? false
        let refusal: String? = state.withLock { state in
            if privileged {
                guard state.open < limits.maxConnections + limits.reserve else {
                    return "jobd has \(state.open) connections open, its limit with the operator's reserve"
                }
            } else {
                guard state.open < limits.maxConnections else {
                    return "jobd has \(state.open) connections open (server.max_connections); try again later"
                }
                if let uid, let maxPerUID = limits.maxPerUID, state.perUID[uid, default: 0] >= maxPerUID {
                    return "uid \(uid) has \(maxPerUID) connections open (server.max_connections_per_uid)"
                }
            }
            state.open += 1
            if let uid { state.perUID[uid, default: 0] += 1 }
            return nil
        }
        if let refusal { logRefusal(refusal, uid: uid) }
        return refusal
    }

    /// Forgets a connection that `admit(uid:)` counted.
    func release(uid: UInt32?) {
        state.withLock { state in
            state.open -= 1
            if let uid {
                let left = state.perUID[uid, default: 1] - 1
                state.perUID[uid] = left > 0 ? left : nil
            }
        }
    }

    /// A warning at most every 10 s, with the number refused since the last one: a flood
    /// must not flood the journal too.
    private func logRefusal(_ reason: String, uid: UInt32?) {
        let now = ContinuousClock.now
        let count: Int? = state.withLock { state in
            state.refusedSinceLog += 1
            if let last = state.lastLog, now - last < .seconds(10) { return nil }
            defer {
                state.refusedSinceLog = 0
                state.lastLog = now
            }
            return state.refusedSinceLog
        }
        guard let count else { return }
        logger.warning(
            "connections refused: too many open",
            metadata: [
                "reason": "\(reason)", "peer.uid": "\(uid.map(String.init) ?? "unknown")",
                "refused": "\(count)", "connections.open": "\(open)",
            ])
    }
}

/// HTTP/1.1 connections behind an admission check.
///
/// Each accepted connection's peer uid is read (`SO_PEERCRED`) before any byte of it is
/// parsed; a connection `ConnectionAdmission` refuses gets a 503 `too_many_connections`
/// and is closed without an HTTP pipeline. An admitted one is Hummingbird's
/// `HTTP1Channel` unchanged.
struct JobdHTTPChannel: ServerChildChannel {
    struct Connection: ServerChildChannelValue {
        let channel: any Channel
        /// nil when the connection was refused.
        let http: HTTP1Channel.Value?
    }

    let http1: HTTP1Channel
    let admission: ConnectionAdmission

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Connection> {
        let admission = self.admission
        let http1 = self.http1
        return Self.peerUID(of: channel).flatMap { uid -> EventLoopFuture<Connection> in
            if let refusal = admission.admit(uid: uid) {
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RefusedConnectionHandler(message: refusal))
                    return Connection(channel: channel, http: nil)
                }
            }
            channel.closeFuture.whenComplete { _ in admission.release(uid: uid) }
            return http1.setup(channel: channel, logger: logger)
                .map { Connection(channel: channel, http: $0) }
                .flatMapError { error in
                    // A failed setup must not fail the accept loop: close just this one.
                    logger.error("cannot set up a connection", metadata: ["error": "\(error)"])
                    channel.close(promise: nil)
                    return channel.eventLoop.makeSucceededFuture(Connection(channel: channel, http: nil))
                }
        }
    }

    func handle(value: Connection, logger: Logger) async {
        guard let http = value.http else { return }
        await http1.handle(value: http, logger: logger)
    }

    /// The peer's uid, or nil when it cannot be read (the peer is gone).
    static func peerUID(of channel: any Channel) -> EventLoopFuture<UInt32?> {
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeSucceededFuture(nil)
        }
        // One getsockopt on the channel's event loop: no blocking.
        let credentials: EventLoopFuture<UCred> = provider.unsafeGetSocketOption(
            level: NIOBSDSocket.OptionLevel.socket, name: NIOBSDSocket.Option(rawValue: SO_PEERCRED))
        return credentials.map { Optional($0.uid) }.recover { _ in nil }
    }

    /// `struct ucred` of `<sys/socket.h>`, as in `PeerCredentialsCache`.
    private struct UCred: Sendable {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }
}

/// Answers a refused connection with 503 `too_many_connections` as soon as it is active,
/// then closes it; nothing it sends is read.
final class RefusedConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let response: ByteBuffer
    private var answered = false

    init(message: String) {
        let error = APIErrorResponse(error: APIError(.tooManyConnections, message))
        let body = (try? JSONCoding.makeEncoder().encode(error)) ?? Data()
        var buffer = ByteBuffer()
        buffer.writeString(
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                + "Content-Length: \(body.count)\r\nRetry-After: 1\r\nConnection: close\r\nServer: jobd\r\n\r\n")
        buffer.writeBytes(body)
        response = buffer
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { answer(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        answer(context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    private func answer(_ context: ChannelHandlerContext) {
        guard !answered else { return }
        answered = true
        context.writeAndFlush(wrapOutboundOut(response)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}

/// Two per-connection rules Hummingbird's HTTP/1.1 channel lacks.
///
/// - **Request-head deadline** (slowloris): the head of a request must be complete
///   `headTimeout` after the connection opened, or after the first byte of the next
///   request on a kept-alive connection; else the connection is closed. Hummingbird's
///   idle timeout alone cannot see this: a client sending one header byte every few
///   seconds is never idle for long. A kept-alive connection waiting for its next
///   request is left to the idle timeout. From a head on, until the response ends, the
///   deadline does not apply: a long-poll `wait` or the `events` stream is never cut.
/// - **`Connection: close` on a response closes the connection** once the response is
///   written, without reading what the client still sends. The server sets it on a 413,
///   so a declared 1 GiB body is refused without being read and discarded (Hummingbird
///   would otherwise drain the body to reach the next request).
///
/// Placed after the HTTP decoder: it sees request parts, and `channelReadComplete` after
/// every socket read, which tells it that bytes arrived even before a part is decoded.
final class RequestGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum Phase {
        /// Waiting for a head, under the deadline.
        case readingHead
        /// A head arrived; its response is not finished.
        case inRequest
        /// Between requests, nothing received yet: only the idle timeout applies.
        case idle
    }

    private let headTimeout: TimeAmount?
    private let logger: Logger
    private var phase = Phase.readingHead
    private var requestsInProgress = 0
    private var closeAfterResponse = false
    private var deadline: Scheduled<Void>?

    init(headTimeout: TimeAmount?, logger: Logger) {
        self.headTimeout = headTimeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { armDeadline(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelDeadline()
    }

    func channelActive(context: ChannelHandlerContext) {
        armDeadline(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelDeadline()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) {
            requestsInProgress += 1
            phase = .inRequest
            cancelDeadline()
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // Bytes arrived on an idle connection without completing a head (a complete head
        // was seen by channelRead first): the next request has begun.
        if phase == .idle {
            phase = .readingHead
            armDeadline(context)
        }
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let response):
            if let connection = response.headerFields[.connection], connection.lowercased().contains("close") {
                closeAfterResponse = true
            }
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            requestsInProgress -= 1
            if closeAfterResponse {
                context.writeAndFlush(data, promise: promise)
                context.close(promise: nil)
                return
            }
            if requestsInProgress <= 0, phase == .inRequest {
                phase = .idle
            }
            context.write(data, promise: promise)
        }
    }

    private func armDeadline(_ context: ChannelHandlerContext) {
        guard let headTimeout, deadline == nil, phase == .readingHead else { return }
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: headTimeout) {
            self.deadline = nil
            guard self.phase == .readingHead else { return }
            self.logger.debug(
                "closing a connection: no complete request head in time",
                metadata: ["server.request_head_timeout_ms": "\(headTimeout.nanoseconds / 1_000_000)"])
            context.close(promise: nil)
        }
    }

    private func cancelDeadline() {
        deadline?.cancel()
        deadline = nil
    }
}
