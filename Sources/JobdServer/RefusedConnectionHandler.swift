import Foundation
import JobdModel
import NIOCore

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
