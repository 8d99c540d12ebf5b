import HTTPTypes
import Hummingbird
import JobdServer

/// Peers for in-memory router tests, which have no socket to read `SO_PEERCRED` from.
///
/// A request names its peer in the `x-test-peer` header as `UID:GID`; without it the peer
/// is the daemon itself (uid `daemonUID`, an admin).
enum TestPeer {
    /// The uid the test router takes for its own: not root, not a user of this machine.
    static let daemonUID: UInt32 = 64_000

    /// The daemon's own peer.
    static let daemon = PeerCredentials(uid: daemonUID, gid: daemonUID, pid: 1)
    /// User A: no passwd entry, so it belongs to no group beyond its own gid.
    static let alice = PeerCredentials(uid: 64_101, gid: 64_101, pid: 101)
    /// User B, likewise.
    static let bob = PeerCredentials(uid: 64_102, gid: 64_102, pid: 102)
    /// Root.
    static let root = PeerCredentials(uid: 0, gid: 0, pid: 100)

    static let header = HTTPField.Name("x-test-peer")!

    /// Reads the `x-test-peer` header; no header: `daemon`; a malformed one: no peer (403).
    static let fromHeader = PeerSource.custom { request in
        guard let text = request.headers[header] else { return daemon }
        let parts = text.split(separator: ":").compactMap { UInt32($0) }
        guard parts.count == 2 else { return nil }
        return PeerCredentials(uid: parts[0], gid: parts[1], pid: 4242)
    }

    /// The headers that make a request come from `peer`.
    static func headers(_ peer: PeerCredentials) -> HTTPFields {
        var fields = HTTPFields()
        fields[header] = "\(peer.uid):\(peer.gid)"
        return fields
    }
}
