import JobdLoopback
import NIOCore
import NIOPosix

/// Who opened a connection to the dashboard's loopback TCP listener: the uid that owns
/// its other end, from the kernel's socket tables (`LoopbackSockets`; `jobctl
/// dashboard`'s forwarder asks the same in `JobdClient.LoopbackPeer`).
enum LoopbackOwner {
    /// The owner of `channel`'s client end as credentials holding the uid only (gid
    /// `UInt32.max`, pid 0), or nil when it is not listed. The tables are read on the NIO
    /// thread pool, never on the event loop.
    static func credentials(of channel: any Channel) -> EventLoopFuture<PeerCredentials?> {
        guard let local = channel.localAddress?.port, let remote = channel.remoteAddress?.port else {
            return channel.eventLoop.makeSucceededFuture(nil)
        }
        return NIOThreadPool.singleton.runIfActive(eventLoop: channel.eventLoop) {
            LoopbackSockets.uid(localPort: local, remotePort: remote).map {
                PeerCredentials(uid: $0, gid: .max, pid: 0)
            }
        }.recover { _ in nil }
    }
}
