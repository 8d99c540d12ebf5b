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
}
