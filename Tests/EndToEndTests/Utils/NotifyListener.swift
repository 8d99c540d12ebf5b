import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A service manager's end of sd_notify: a Unix datagram socket that jobd's
/// `$NOTIFY_SOCKET` points at, as systemd's `/run/systemd/notify` would be.
///
/// Every datagram received is kept in order with its arrival time. Waiting happens on a
/// Dispatch thread (`poll` with the deadline), never on the cooperative pool.
final class NotifyListener: Sendable {
    /// One datagram.
    struct Datagram: Sendable, CustomStringConvertible {
        /// Its text (`READY=1\nSTATUS=…`).
        var text: String
        /// When it was received.
        var receivedAt: ContinuousClock.Instant

        /// Its `NAME=value` lines.
        var fields: [String] { text.split(separator: "\n").map(String.init) }

        /// True when one of its lines starts with `prefix` (`WATCHDOG=1`, `STATUS=`).
        func has(_ prefix: String) -> Bool { fields.contains { $0.hasPrefix(prefix) } }

        var description: String { text.debugDescription }
    }

    /// The socket path to put in `NOTIFY_SOCKET`.
    let path: String
    private let directory: URL
    private let descriptor: Int32
    private let received = Mutex<[Datagram]>([])

    /// Binds a new socket in a new temporary directory (short path: `sun_path` holds 108
    /// bytes), or an abstract one (`@jobd-test-…`) when `abstract` is true.
    init(abstract: Bool = false) throws {
        directory = URL(fileURLWithPath: "/tmp").appendingPathComponent("jn-" + UUID().uuidString.prefix(8))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let name: [UInt8]
        if abstract {
            path = "@jobd-test-" + UUID().uuidString.prefix(8)
            name = [0] + Array(path.utf8.dropFirst())
        } else {
            path = directory.appendingPathComponent("notify").path
            name = Array(path.utf8) + [0]
        }
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: name.prefix(buffer.count))
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + name.count)
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0
            }
        }
        guard bound else {
            close(descriptor)
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
    }

    deinit {
        close(descriptor)
        try? FileManager.default.removeItem(at: directory)
    }

    /// Every datagram received so far, in order.
    var datagrams: [Datagram] { received.withLock { $0 } }

    /// Waits until a datagram matching `predicate` has arrived (including earlier ones
    /// after index `after`), or the deadline passes.
    ///
    /// - Returns: The index of the first match in `datagrams`, or nil at the deadline.
    func waitFor(
        after: Int = -1, within timeout: Duration = .seconds(10), _ predicate: @escaping @Sendable (Datagram) -> Bool
    ) async -> Int? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let all = datagrams
            if let index = all.indices.first(where: { $0 > after && predicate(all[$0]) }) {
                return index
            }
            guard ContinuousClock.now < deadline else { return nil }
            await receive(until: deadline)
        }
    }

    /// Receives datagrams until the deadline, keeping all of them.
    func collect(until deadline: ContinuousClock.Instant) async {
        while ContinuousClock.now < deadline {
            await receive(until: deadline)
        }
    }

    /// Receives at most one datagram, waiting no longer than the deadline.
    private func receive(until deadline: ContinuousClock.Instant) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                self.receiveBlocking(until: deadline)
                continuation.resume()
            }
        }
    }

    private func receiveBlocking(until deadline: ContinuousClock.Instant) {
        let remaining = deadline - ContinuousClock.now
        let milliseconds = Int32(
            clamping: max(
                0, remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000))
        var pollDescriptor = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&pollDescriptor, 1, milliseconds) == 1 else { return }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        guard count > 0 else { return }
        let datagram = Datagram(text: String(decoding: buffer[0..<count], as: UTF8.self), receivedAt: .now)
        received.withLock { $0.append(datagram) }
    }
}
