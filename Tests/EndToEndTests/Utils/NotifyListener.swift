import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A service manager's end of sd_notify: a Unix datagram socket that jobd's
/// `$NOTIFY_SOCKET` points at, as systemd's `/run/systemd/notify` would be.
///
/// Every datagram received is kept in order with its arrival time. Like systemd, it reads
/// all the time, on a thread of its own: a listener that read only while a test waited
/// let the kernel's queue (`net.unix.max_dgram_qlen`, 10) fill with pings during a slow
/// stop, and jobd then gave up on `STOPPING=1`, which a real service manager never makes
/// it do.
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
    private let receiver: Receiver

    /// Binds a new socket in a new temporary directory (short path: `sun_path` holds 108
    /// bytes), or an abstract one (`@jobd-test-…`) when `abstract` is true, and starts
    /// reading it.
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
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
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
            let error = errno
            close(descriptor)
            throw POSIXError(POSIXErrorCode(rawValue: error) ?? .EIO)
        }
        receiver = Receiver(descriptor: descriptor)
        let receiver = receiver
        let thread = Thread { receiver.run() }
        thread.name = "notify-listener"
        thread.start()
    }

    deinit {
        receiver.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Every datagram received so far, in order.
    var datagrams: [Datagram] { receiver.datagrams }

    /// Waits until a datagram matching `predicate` has arrived (including earlier ones
    /// after index `after`), or the deadline passes.
    ///
    /// - Returns: The index of the first match in `datagrams`, or nil at the deadline.
    func waitFor(
        after: Int = -1, within timeout: Duration = .seconds(30), _ predicate: @escaping @Sendable (Datagram) -> Bool
    ) async -> Int? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let all = datagrams
            if let index = all.indices.first(where: { $0 > after && predicate(all[$0]) }) {
                return index
            }
            guard ContinuousClock.now < deadline else { return nil }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Returns at the deadline, with every datagram received until then kept.
    func collect(until deadline: ContinuousClock.Instant) async {
        try? await Task.sleep(until: deadline, clock: .continuous)
    }
}

/// The reading thread's side: the socket and what arrived on it.
private final class Receiver: Sendable {
    private let descriptor: Int32
    private let received = Mutex<[NotifyListener.Datagram]>([])
    private let stopped = Atomic<Bool>(false)

    init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    var datagrams: [NotifyListener.Datagram] { received.withLock { $0 } }

    /// Asks the thread to close the socket and end (within one poll interval).
    func stop() {
        stopped.store(true, ordering: .releasing)
    }

    /// Receives until stopped, then closes the socket.
    func run() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !stopped.load(ordering: .acquiring) {
            var pollDescriptor = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&pollDescriptor, 1, 50) == 1 else { continue }
            let count = buffer.withUnsafeMutableBytes {
                recv(descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT))
            }
            guard count > 0 else { continue }
            let datagram = NotifyListener.Datagram(
                text: String(decoding: buffer[0..<count], as: UTF8.self), receivedAt: .now)
            received.withLock { $0.append(datagram) }
        }
        close(descriptor)
    }
}
