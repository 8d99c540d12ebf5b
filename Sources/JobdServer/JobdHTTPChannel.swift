import HummingbirdCore
import JobdStore
import Logging
import NIOCore

/// HTTP/1.1 connections behind an admission check.
///
/// Each accepted connection's peer credentials are read (`SO_PEERCRED`) before any byte
/// of it is parsed, once: they go to `peers`, where the access check of every request on
/// the connection finds them; a connection `ConnectionAdmission` refuses gets a 503 `too_many_connections`
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
    let peers: PeerCredentialsCache
    /// False on the dashboard's TCP listener: a TCP socket has no peer credentials (Linux
    /// answers `SO_PEERCRED` there with uid and gid -1, which must never be taken for a
    /// peer); the connecting uid is looked up instead (`LoopbackOwner`), and a connection
    /// whose owner cannot be found is closed at once.
    var readsCredentials = true

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Connection> {
        let admission = self.admission
        let http1 = self.http1
        let peers = self.peers
        let readsCredentials = self.readsCredentials
        let credentials =
            readsCredentials ? PeerCredentials.read(from: channel) : LoopbackOwner.credentials(of: channel)
        return credentials.flatMap { peer -> EventLoopFuture<Connection> in
            if !readsCredentials, peer == nil {
                logger.notice("dashboard connection closed: its owner is not in /proc/net/tcp")
                return channel.close().map { Connection(channel: channel, http: nil) }
                    .recover { _ in Connection(channel: channel, http: nil) }
            }
            let uid = peer?.uid
            if let refusal = admission.admit(uid: uid) {
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RefusedConnectionHandler(message: refusal))
                    return Connection(channel: channel, http: nil)
                }
            }
            channel.closeFuture.whenComplete { _ in admission.release(uid: uid) }
            if let peer { peers.remember(peer, for: channel) }
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
        // The connection's task on the request threads: its reads run there without
        // hopping to a reader queue and back (`RequestExecutor`).
        await withTaskExecutorPreference(RequestExecutor.shared) {
            await http1.handle(value: http, logger: logger)
        }
    }
}
