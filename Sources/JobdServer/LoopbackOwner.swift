import Foundation
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// Who opened a connection to the dashboard's loopback TCP listener.
///
/// TCP has no `SO_PEERCRED`, but on loopback both ends live on this machine and Linux
/// lists every TCP socket with its owner's uid in `/proc/net/tcp` and `/proc/net/tcp6`
/// (what identd reads): the client's socket is the one whose local port is the
/// connection's remote port and whose remote port is the listener's port. (`jobctl
/// dashboard`'s forwarder does the same look-up in `JobdClient.LoopbackPeer`; the two
/// layers share no module below the model, which does no I/O.)
enum LoopbackOwner {
    /// The owner of `channel`'s client end as credentials holding the uid only (gid
    /// `UInt32.max`, pid 0), or nil when it is not listed. The tables are read on the NIO
    /// thread pool, never on the event loop.
    static func credentials(of channel: any Channel) -> EventLoopFuture<PeerCredentials?> {
        guard let local = channel.localAddress?.port, let remote = channel.remoteAddress?.port else {
            return channel.eventLoop.makeSucceededFuture(nil)
        }
        return NIOThreadPool.singleton.runIfActive(eventLoop: channel.eventLoop) {
            for path in ["/proc/net/tcp", "/proc/net/tcp6"] {
                if let table = readAll(path), let uid = uid(in: table, localPort: local, remotePort: remote) {
                    return PeerCredentials(uid: uid, gid: .max, pid: 0)
                }
            }
            return nil
        }.recover { _ in nil }
    }

    /// The uid in a `/proc/net/tcp` table of the socket from `remotePort` to `localPort`.
    static func uid(in table: String, localPort: Int, remotePort: Int) -> UInt32? {
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 7, port(fields[1]) == remotePort, port(fields[2]) == localPort else { continue }
            return UInt32(fields[7])
        }
        return nil
    }

    private static func port(_ field: Substring) -> Int? {
        field.split(separator: ":").last.flatMap { Int($0, radix: 16) }
    }

    /// The whole of a `/proc` file, read to its end (such files report size 0).
    static func readAll(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            bytes += buffer[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
