import HTTPTypes
import Logging
import NIOCore
import NIOHTTPTypes

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
