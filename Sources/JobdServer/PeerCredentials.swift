import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// Who is on the other end of a connection, as the kernel reports it (`SO_PEERCRED`).
///
/// The values are those of the peer process when it connected; they cannot be forged by
/// the client, unlike anything sent in a request.
public struct PeerCredentials: Sendable, Hashable, CustomStringConvertible {
    /// The peer's effective user id.
    public var uid: UInt32
    /// The peer's effective group id.
    public var gid: UInt32
    /// The peer's process id.
    public var pid: Int32

    /// Makes credentials from their parts.
    public init(uid: UInt32, gid: UInt32, pid: Int32) {
        self.uid = uid
        self.gid = gid
        self.pid = pid
    }

    /// The credentials of this process (the daemon itself).
    public static var currentProcess: PeerCredentials {
        PeerCredentials(uid: geteuid(), gid: getegid(), pid: getpid())
    }

    public var description: String { "uid \(uid) gid \(gid) pid \(pid)" }

    /// The credentials of `channel`'s peer, or nil when the channel is not a socket or the
    /// read fails (the peer is gone).
    ///
    /// One `getsockopt` on the channel's event loop: no blocking.
    static func read(from channel: any Channel) -> EventLoopFuture<PeerCredentials?> {
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeSucceededFuture(nil)
        }
        let raw: EventLoopFuture<SocketPeerCredentials> = provider.unsafeGetSocketOption(
            level: NIOBSDSocket.OptionLevel.socket, name: NIOBSDSocket.Option(rawValue: SO_PEERCRED))
        return raw.map { Optional(PeerCredentials(uid: $0.uid, gid: $0.gid, pid: $0.pid)) }.recover { _ in nil }
    }
}

/// `struct ucred` of `<sys/socket.h>` (`pid_t pid; uid_t uid; gid_t gid;`), which Glibc's
/// Swift module hides behind `_GNU_SOURCE`: three 4-byte fields, laid out as in C.
private struct SocketPeerCredentials: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}
