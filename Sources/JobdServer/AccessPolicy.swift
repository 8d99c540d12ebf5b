import JobdModel

/// Who may use jobd, and who is an admin: `ServerOptions`' access settings applied to a peer.
///
/// - Root and the daemon's own uid are always allowed and always admins.
/// - With `allowedUIDs`, any other uid not listed is refused.
/// - With `allowedGIDs`, a peer is refused unless its gid, or a group its user belongs to
///   in the user database, is listed.
/// - With `adminGroup`, the group's members (by the peer's gid or by the user database)
///   are admins.
///
/// Refusals are 403 `forbidden`. Group look-ups go through `UserDirectory` (cached, off
/// the event loops); they run only when a setting needs them.
struct AccessPolicy: Sendable {
    var allowedUIDs: Set<UInt32>
    var allowedGIDs: Set<UInt32>
    var adminGroup: String?
    /// The daemon's own effective uid.
    var daemonUID: UInt32
    var directory: UserDirectory

    init(options: ServerOptions, daemonUID: UInt32, directory: UserDirectory) {
        allowedUIDs = Set(options.allowedUIDs)
        allowedGIDs = Set(options.allowedGIDs)
        adminGroup = options.adminGroup
        self.daemonUID = daemonUID
        self.directory = directory
    }

    /// The caller `peer` is, with its rights.
    ///
    /// - Throws: `APIError` `forbidden` when the peer may not use jobd at all.
    func caller(for peer: PeerCredentials) async throws -> Caller {
        if peer.uid == 0 || peer.uid == daemonUID {
            return Caller(peer: peer, isAdmin: true)
        }
        if !allowedUIDs.isEmpty, !allowedUIDs.contains(peer.uid) {
            throw APIError(.forbidden, "uid \(peer.uid) is not allowed to use jobd (access.allowed_uids)")
        }
        var groups: Set<UInt32>?
        if !allowedGIDs.isEmpty, !allowedGIDs.contains(peer.gid) {
            let memberships = await directory.groups(ofUID: peer.uid)
            groups = memberships
            if allowedGIDs.isDisjoint(with: memberships) {
                throw APIError(
                    .forbidden, "uid \(peer.uid) is in none of the groups allowed to use jobd (access.allowed_gids)")
            }
        }
        guard let adminGroup, let adminGID = await directory.groupID(named: adminGroup) else {
            return Caller(peer: peer, isAdmin: false)
        }
        if peer.gid == adminGID { return Caller(peer: peer, isAdmin: true) }
        let memberships: Set<UInt32>
        if let groups {
            memberships = groups
        } else {
            memberships = await directory.groups(ofUID: peer.uid)
        }
        return Caller(peer: peer, isAdmin: memberships.contains(adminGID))
    }
}
