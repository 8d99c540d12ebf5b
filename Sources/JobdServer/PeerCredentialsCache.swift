import NIOCore
import Synchronization

/// The peer credentials of open connections, read from the socket once per connection.
///
/// Credentials of a Unix socket connection are fixed when the peer connects, so one read
/// serves every request of a keep-alive connection. `JobdHTTPChannel` reads them as it
/// accepts a connection (for the admission check) and leaves them here, where
/// `PeerSource.socket` finds them for each request. Entries are keyed by the channel's
/// identity, checked through a weak reference (a new channel at a dead one's address
/// never inherits its credentials), and removed when the channel closes.
final class PeerCredentialsCache: Sendable {
    private struct Entry {
        weak var channel: (any Channel)?
        var peer: PeerCredentials
    }

    /// The one the server and `PeerSource.socket` share.
    static let shared = PeerCredentialsCache()

    private let entries = Mutex<[ObjectIdentifier: Entry]>([:])

    /// How many connections have credentials cached (for tests).
    var count: Int { entries.withLock { $0.count } }

    /// The peer of `channel`: the credentials left by `remember(_:for:)`, else read now
    /// and kept; nil when it is not a socket or the read fails (a closed connection).
    func peer(of channel: any Channel) async -> PeerCredentials? {
        let key = ObjectIdentifier(channel)
        let cached = entries.withLock { entries -> PeerCredentials? in
            guard let entry = entries[key], entry.channel === channel else { return nil }
            return entry.peer
        }
        if let cached { return cached }
        guard let peer = try? await PeerCredentials.read(from: channel).get() else { return nil }
        remember(peer, for: channel)
        return peer
    }

    /// Keeps `peer` as the credentials of `channel` until it closes.
    func remember(_ peer: PeerCredentials, for channel: any Channel) {
        let key = ObjectIdentifier(channel)
        let isNew = entries.withLock { entries in
            let isNew = entries[key]?.channel !== channel
            entries[key] = Entry(channel: channel, peer: peer)
            return isNew
        }
        if isNew {
            // Runs at once if the channel closed meanwhile, so no entry outlives its channel.
            channel.closeFuture.whenComplete { [weak self] _ in self?.forget(channel) }
        }
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
