import Dispatch
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Sends sd_notify(3) messages (`READY=1`, `STATUS=…`, `WATCHDOG=1`, `STOPPING=1`) to
/// the service manager: one datagram per message to the Unix socket in `$NOTIFY_SOCKET`.
///
/// The socket is a path (`/run/systemd/notify`) or, with a leading `@`, an abstract
/// socket. Writes are non-blocking (`SOCK_NONBLOCK`, `MSG_DONTWAIT`): a full receive
/// queue drops the message instead of stalling the cooperative pool, and `send(_:)` says
/// so. systemd is not linked: this is the whole protocol.
final class SystemdNotifier: Sendable {
    /// The socket address as written in `$NOTIFY_SOCKET`, for logs.
    let path: String
    private let descriptor: Int32
    /// The `sockaddr_un` bytes and their length (abstract names have no trailing NUL).
    private let address: [UInt8]

    /// The notifier for `$NOTIFY_SOCKET`, or nil when it is unset or not a Unix socket.
    ///
    /// - Throws: `POSIXError` when the datagram socket cannot be created.
    init?(environment: [String: String]) throws {
        guard let path = environment["NOTIFY_SOCKET"], let first = path.first, first == "/" || first == "@" else {
            return nil
        }
        var name = Array(path.utf8)
        if first == "@" { name[0] = 0 }
        let pathCapacity = MemoryLayout.size(ofValue: sockaddr_un().sun_path)
        // A path needs its NUL; an abstract name is exactly its bytes.
        guard name.count + (first == "/" ? 1 : 0) <= pathCapacity else { return nil }
        let family = sa_family_t(AF_UNIX)
        var bytes = withUnsafeBytes(of: family) { Array($0) }
        bytes += name
        if first == "/" { bytes.append(0) }
        let descriptor = socket(
            AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard descriptor >= 0 else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        self.path = path
        self.descriptor = descriptor
        self.address = bytes
    }

    deinit {
        close(descriptor)
    }

    /// Sends one message (lines like `STATUS=running 3/16`) without blocking.
    ///
    /// - Returns: True when the datagram was queued; false when it was dropped (the
    ///   receiver's queue is full, or nobody listens).
    @discardableResult
    func send(_ message: String) -> Bool {
        sendOnce(message) == 0
    }

    /// Sends a message that must not be lost (`READY=1`, `STOPPING=1`), trying again
    /// for up to a second while the receiver's queue is full.
    ///
    /// - Returns: True when the datagram was queued.
    @discardableResult
    func sendReliably(_ message: String) async -> Bool {
        for _ in 0..<100 {
            let error = sendOnce(message)
            guard error == EAGAIN || error == EWOULDBLOCK || error == ENOBUFS else { return error == 0 }
            do {
                try await Task.sleep(for: .milliseconds(10))
            } catch {
                return send(message)
            }
        }
        return false
    }

    /// One `sendto`; 0 or the errno.
    private func sendOnce(_ message: String) -> Int32 {
        let payload = Array(message.utf8)
        var storage = sockaddr_un()
        let length = min(address.count, MemoryLayout<sockaddr_un>.size)
        withUnsafeMutableBytes(of: &storage) { buffer in
            buffer.copyBytes(from: address.prefix(length))
        }
        let sent = withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                payload.withUnsafeBytes { bytes in
                    sendto(
                        descriptor, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL),
                        socketAddress, socklen_t(length))
                }
            }
        }
        if sent == payload.count { return 0 }
        return sent < 0 ? errno : EMSGSIZE
    }

    /// The watchdog interval systemd asked for: half of `$WATCHDOG_USEC`, or nil when the
    /// watchdog is off or meant for another process (`$WATCHDOG_PID`).
    static func watchdogInterval(environment: [String: String]) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let microseconds = Int64(text), microseconds > 0 else {
            return nil
        }
        if let pid = environment["WATCHDOG_PID"], !pid.isEmpty, pid != "\(getpid())" {
            return nil
        }
        return .microseconds(microseconds / 2)
    }

    /// `MONOTONIC_USEC=…` for `RELOADING=1`: CLOCK_MONOTONIC in microseconds.
    static func monotonicMicroseconds() -> UInt64 {
        // Dispatch's uptime is CLOCK_MONOTONIC on Linux.
        DispatchTime.now().uptimeNanoseconds / 1000
    }
}
