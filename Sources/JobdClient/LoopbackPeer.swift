import Foundation
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// Who opened a loopback TCP connection: the uid that owns its other end.
///
/// TCP has no `SO_PEERCRED`, but on loopback both ends live on this machine, and Linux
/// lists every TCP socket with its owner's uid in `/proc/net/tcp` and `/proc/net/tcp6`
/// (what identd reads). The client's socket is the one whose local port is the
/// connection's remote port and whose remote port is the connection's local port.
enum LoopbackPeer {
    /// The uid owning the client end of a connection accepted on `localPort` from
    /// `remotePort`, or nil when no such socket is listed (it closed, or this is not Linux).
    ///
    /// Reads two small files on the NIO thread pool, off the cooperative pool.
    static func uid(localPort: Int, remotePort: Int) async -> UInt32? {
        let tables = try? await NIOThreadPool.singleton.runIfActive {
            ["/proc/net/tcp", "/proc/net/tcp6"].compactMap(readAll)
        }
        for table in tables ?? [] {
            if let uid = uid(in: table, localPort: localPort, remotePort: remotePort) { return uid }
        }
        return nil
    }

    /// The whole of a `/proc` file. Such files report size 0 and are generated as they are
    /// read, so they are read until end of file, not by their size.
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

    /// The uid in a `/proc/net/tcp` table of the socket from `remotePort` to `localPort`.
    static func uid(in table: String, localPort: Int, remotePort: Int) -> UInt32? {
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 7, port(fields[1]) == remotePort, port(fields[2]) == localPort else { continue }
            return UInt32(fields[7])
        }
        return nil
    }

    /// The port of `ADDRESS:PORT` (hex).
    private static func port(_ field: Substring) -> Int? {
        field.split(separator: ":").last.flatMap { Int($0, radix: 16) }
    }
}
