import NIOCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The peer credentials of open connections, read from the socket once per connection.
///
/// Credentials of a Unix socket connection are fixed when the peer connects, so one read
/// serves every request of a keep-alive connection. Entries are keyed by the channel's
/// identity, checked through a weak reference (a new channel at a dead one's address
/// never inherits its credentials), and removed when the channel closes.
final class PeerCredentialsCache: Sendable {
    private struct Entry {
        weak var channel: (any Channel)?
        var peer: PeerCredentials
    }

    private let entries = Mutex<[ObjectIdentifier: Entry]>([:])

    /// How many connections have credentials cached (for tests).
    var count: Int { entries.withLock { $0.count } }

    /// The peer of `channel`, or nil when it is not a socket or the read fails (a closed
    /// connection).
    func peer(of channel: any Channel) async -> PeerCredentials? {
        let key = ObjectIdentifier(channel)
        let cached = entries.withLock { entries -> PeerCredentials? in
            guard let entry = entries[key], entry.channel === channel else { return nil }
            return entry.peer
        }
        if let cached { return cached }
        guard let provider = channel as? any SocketOptionProvider else { return nil }
        let raw: SocketPeerCredentials
        do {
            // getsockopt runs on the channel's event loop: one cheap system call, no blocking.
            raw = try await provider.unsafeGetSocketOption(
                level: NIOBSDSocket.OptionLevel.socket, name: NIOBSDSocket.Option(rawValue: SO_PEERCRED)
            ).get()
        } catch {
            return nil
        }
        let peer = PeerCredentials(uid: raw.uid, gid: raw.gid, pid: raw.pid)
        let isNew = entries.withLock { entries in
            let isNew = entries[key]?.channel !== channel
            entries[key] = Entry(channel: channel, peer: peer)
            return isNew
        }
        if isNew {
            // Runs at once if the channel closed meanwhile, so no entry outlives its channel.
            channel.closeFuture.whenComplete { [weak self] _ in self?.forget(channel) }
        }
        return peer
    }

    private func forget(_ channel: any Channel) {
        entries.withLock { entries in
            let key = ObjectIdentifier(channel)
            if let entry = entries[key], entry.channel == nil || entry.channel === channel {
                entries[key] = nil
            }
        }
    }
}

/// `struct ucred` of `<sys/socket.h>` (`pid_t pid; uid_t uid; gid_t gid;`), which Glibc's
/// Swift module hides behind `_GNU_SOURCE`: three 4-byte fields, laid out as in C.
private struct SocketPeerCredentials: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}
