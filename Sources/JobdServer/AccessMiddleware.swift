import Hummingbird
import JobdModel
import Logging

/// Reads each request's peer credentials and applies the access policy, before routing.
///
/// A peer that cannot be identified, or that the policy refuses, gets 403 `forbidden` on
/// every route (unknown routes included), so a refused peer learns nothing. An allowed
/// request goes on with `context.peer` and `context.caller` set, and its log lines carry
/// `peer.uid` and `peer.pid`.
///
/// Dashboard requests (`DashboardGate`) act as their session's peer instead, and their
/// answers carry headers that keep browsers from sniffing, framing, caching or leaking
/// them.
struct AccessMiddleware: RouterMiddleware {
    typealias Context = JobdRequestContext

    let peers: PeerSource
    let policy: AccessPolicy
    let gate: DashboardGate

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        var context = context
        // On the dashboard's TCP listener the server left the connecting uid (from
        // /proc/net/tcp) where the socket's credentials would be.
        guard let socketPeer = await peers.peer(of: request, channel: context.channel) else {
            context.logger.notice("request refused: the peer's credentials cannot be read")
            throw APIError(.forbidden, "jobd cannot read the credentials of this connection's peer")
        }
        let peer: PeerCredentials
        switch try gate.verdict(for: request, transport: context.transport, peer: socketPeer) {
        case .direct:
            peer = socketPeer
        case .dashboard(let owner):
            peer = owner
            context.isDashboard = true
            context.logger[metadataKey: "dashboard"] = "true"
        case .respond(let response):
            return response
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
        guard context.isDashboard else { return try await next(request, context) }
        var response = try await next(request, context)
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.referrerPolicy] = "no-referrer"
        response.headers[.xFrameOptions] = "DENY"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}
