import Hummingbird
import JobdModel
import Logging
import NIOCore

/// The request context of the jobd API: Hummingbird's core context plus who is asking.
///
/// `AccessMiddleware` fills `peer` and `caller` before any route runs; a request whose
/// peer is unknown or not allowed never reaches a route.
public struct JobdRequestContext: RequestContext {
    /// Hummingbird's per-request storage (logger, route parameters).
    public var coreContext: CoreRequestContextStorage
    /// The connection the request arrived on (its socket has the peer credentials).
    public let channel: any Channel
    /// The peer's credentials (`SO_PEERCRED`), once `AccessMiddleware` read them.
    public var peer: PeerCredentials?
    /// The peer with its rights, once `AccessMiddleware` allowed it.
    public var caller: Caller?
    /// How the request arrived: the socket, unless the server says otherwise.
    public var transport: ServerTransport = .unixSocket
    /// True for a dashboard request (see `DashboardGate`), once `AccessMiddleware` saw it.
    public var isDashboard = false

    /// Makes the context of a request that arrived on `source.channel`.
    public init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        channel = source.channel
    }

    /// The caller, which `AccessMiddleware` set.
    ///
    /// - Throws: `APIError` `forbidden` when it is missing (a router built without the
    ///   middleware): nothing is allowed without a known peer.
    func requireCaller() throws -> Caller {
        guard let caller else {
            throw APIError(.forbidden, "the peer of this connection is unknown")
        }
        return caller
    }
}
