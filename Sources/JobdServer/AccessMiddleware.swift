import Hummingbird
import JobdModel
import Logging

/// Reads each request's peer credentials and applies the access policy, before routing.
///
/// A peer that cannot be identified, or that the policy refuses, gets 403 `forbidden` on
/// every route (unknown routes included), so a refused peer learns nothing. An allowed
/// request goes on with `context.peer` and `context.caller` set, and its log lines carry
/// `peer.uid` and `peer.pid`.
struct AccessMiddleware: RouterMiddleware {
    typealias Context = JobdRequestContext

    let peers: PeerSource
    let policy: AccessPolicy

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        var context = context
        guard let peer = await peers.peer(of: request, channel: context.channel) else {
            context.logger.notice("request refused: the peer's credentials cannot be read")
            throw APIError(.forbidden, "jobd cannot read the credentials of this connection's peer")
        }
        context.logger[metadataKey: "peer.uid"] = "\(peer.uid)"
        context.logger[metadataKey: "peer.pid"] = "\(peer.pid)"
        context.peer = peer
        do {
            context.caller = try await policy.caller(for: peer)
        } catch let error as APIError {
            context.logger.notice(
                "request refused", metadata: ["peer.gid": "\(peer.gid)", "error.message": "\(error.message)"])
            throw error
        }
        return try await next(request, context)
    }
}
