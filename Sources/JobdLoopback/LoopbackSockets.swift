#if canImport(Glibc)
    import Glibc
#endif

/// Who owns the other end of a loopback TCP connection: the kernel's socket tables.
///
/// TCP has no `SO_PEERCRED`, but on loopback both ends live on this machine, and Linux
/// lists every TCP socket with its owner's uid in `/proc/net/tcp` and `/proc/net/tcp6`
/// (what identd reads). The client's socket is the one whose local port is the
/// connection's remote port and whose remote port is the connection's local port.
///
/// The daemon's dashboard listener (`JobdServer.LoopbackOwner`) and `jobctl dashboard`'s
/// forwarder (`JobdClient.LoopbackPeer`) both ask this; it is a module of its own because
/// the two share nothing else below the model, which does no I/O.
public enum LoopbackSockets {
    /// The uid owning the client end of a connection accepted on `localPort` from
    /// `remotePort`, or nil when no such socket is listed (it closed, or this is not
    /// Linux).
    ///
    /// - Important: Reads two files: blocking I/O. Call it from a thread pool, never from
    ///   the cooperative pool or an event loop.
    public static func uid(localPort: Int, remotePort: Int) -> UInt32? {
        for path in ["/proc/net/tcp", "/proc/net/tcp6"] {
            if let table = readAll(path), let uid = uid(in: table, localPort: localPort, remotePort: remotePort) {
                return uid
            }
        }
        return nil
    }

    /// The uid in a `/proc/net/tcp` table of the socket from `remotePort` to `localPort`.
    public static func uid(in table: String, localPort: Int, remotePort: Int) -> UInt32? {
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 7, port(fields[1]) == remotePort, port(fields[2]) == localPort else { continue }
            return UInt32(fields[7])
        }
        return nil
    }

    /// The whole of a `/proc` file. Such files report size 0 and are generated as they are
    /// read, so they are read until end of file, not by their size.
    public static func readAll(_ path: String) -> String? {
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

    /// The port of `ADDRESS:PORT` (hex).
    private static func port(_ field: Substring) -> Int? {
        field.split(separator: ":").last.flatMap { Int($0, radix: 16) }
    }
}
