import JobdModel

/// Who sends a request, as the access policy resolved it: the peer and its rights.
public struct Caller: Sendable, Hashable {
    /// The connection's peer.
    public var peer: PeerCredentials
    /// True for root, the daemon's own user and members of the admin group: they see and
    /// act on every user's jobs and may pause, resume, prune and set the worker limit.
    public var isAdmin: Bool

    /// Makes a caller.
    public init(peer: PeerCredentials, isAdmin: Bool) {
        self.peer = peer
        self.isAdmin = isAdmin
    }

    /// The submitter uid the caller's jobs must have: nil for an admin (every job).
    public var submitterScope: UInt32? { isAdmin ? nil : peer.uid }

    /// True when the caller may see `record`. A job with no recorded submitter is an
    /// admin's only.
    public func canSee(_ record: JobRecord) -> Bool {
        isAdmin || record.submitterUID == peer.uid
    }

    /// Throws 403 `forbidden` unless the caller is an admin.
    ///
    /// - Parameter action: What is refused, for the message ("pause dispatching").
    public func requireAdmin(to action: String) throws {
        guard isAdmin else {
            throw APIError(.forbidden, "only root or the admin group may \(action); you are uid \(peer.uid)")
        }
    }
}
