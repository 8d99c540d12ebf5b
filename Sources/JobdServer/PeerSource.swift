import Hummingbird
import NIOCore

/// Where the server learns a request's peer credentials.
///
/// The daemon uses `socket`: `SO_PEERCRED` of the connection's Unix socket. In-memory
/// tests (HummingbirdTesting's `.router` mode) have no socket and choose the peer per
/// request with `custom`.
public struct PeerSource: Sendable {
    private enum Kind: Sendable {
        case socket(PeerCredentialsCache)
        case custom(@Sendable (Request) -> PeerCredentials?)
    }

    private let kind: Kind

    /// `SO_PEERCRED` of the connection's Unix socket, read once per connection (by the
    /// server as it accepts the connection, see `PeerCredentialsCache`).
    ///
    /// A request whose channel is not a socket has no peer, and is refused with 403
    /// `forbidden`: without credentials nothing can be allowed.
    public static var socket: PeerSource { PeerSource(kind: .socket(.shared)) }

    /// Peers chosen by `resolve` for each request; nil refuses the request with 403.
    ///
    /// - Important: Only for tests. A request must never choose its own peer in a daemon.
    public static func custom(_ resolve: @escaping @Sendable (Request) -> PeerCredentials?) -> PeerSource {
        PeerSource(kind: .custom(resolve))
    }

    /// The peer of `request`, which arrived on `channel`, or nil when it cannot be known.
    func peer(of request: Request, channel: any Channel) async -> PeerCredentials? {
        switch kind {
        case .socket(let cache): await cache.peer(of: channel)
        case .custom(let resolve): resolve(request)
        }
    }
}
