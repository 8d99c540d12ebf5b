import NIOPosix
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Group look-ups for the access policy, through NSS (`/etc/group`, LDAP, sssd …).
///
/// NSS calls may block (a network directory), so they run on NIO's thread pool, never on
/// an event loop or the cooperative pool. Answers are cached for `timeToLive` (60 s by
/// default): a user added to a group gets the new rights within that time, and a busy
/// client costs one look-up a minute, not one per request.
package final class UserDirectory: Sendable {
    private struct Cached<Value> {
        var value: Value
        var expires: ContinuousClock.Instant
    }

    private struct State {
        var groups: [UInt32: Cached<Set<UInt32>>] = [:]
        var groupIDs: [String: Cached<UInt32?>] = [:]
    }

    private let timeToLive: Duration
    private let state = Mutex(State())

    /// Makes a directory whose answers are kept for `timeToLive`.
    package init(timeToLive: Duration = .seconds(60)) {
        self.timeToLive = timeToLive
    }

    /// Every group the user `uid` belongs to in the user database: the primary group of its
    /// passwd entry and each supplementary one (`getgrouplist`).
    ///
    /// A uid without a passwd entry belongs to no group here (the caller still has the
    /// peer's own gid). A failed look-up is not cached.
    package func groups(ofUID uid: UInt32) async -> Set<UInt32> {
        let now = ContinuousClock.now
        if let cached = state.withLock({ $0.groups[uid] }), cached.expires > now { return cached.value }
        guard let groups = try? await NIOThreadPool.singleton.runIfActive({ Self.lookUpGroups(ofUID: uid) }) else {
            return []
        }
        state.withLock { $0.groups[uid] = Cached(value: groups, expires: now + timeToLive) }
        return groups
    }

    /// The id of the group `name` (a group name, or a number), or nil when no group has it.
    package func groupID(named name: String) async -> UInt32? {
        if let number = UInt32(name) { return number }
        let now = ContinuousClock.now
        if let cached = state.withLock({ $0.groupIDs[name] }), cached.expires > now { return cached.value }
        guard let id = try? await NIOThreadPool.singleton.runIfActive({ Self.lookUpGroupID(named: name) }) else {
            return nil
        }
        state.withLock { $0.groupIDs[name] = Cached(value: id, expires: now + timeToLive) }
        return id
    }

    /// The group ids of `uid`'s passwd entry; blocking.
    static func lookUpGroups(ofUID uid: UInt32) -> Set<UInt32> {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        // ERANGE: the entry does not fit; grow the buffer (to a sane cap) and ask again.
        while getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == ERANGE, buffer.count < 1 << 22 {
            buffer = [CChar](repeating: 0, count: buffer.count * 4)
        }
        guard result != nil, let name = entry.pw_name else { return [] }
        var count: Int32 = 64
        while true {
            var groups = [gid_t](repeating: 0, count: Int(count))
            var found = count
            if getgrouplist(name, entry.pw_gid, &groups, &found) >= 0 {
                return Set(groups.prefix(Int(found)))
            }
            // -1: the list is longer; `found` now holds its length.
            guard found > count else { return [entry.pw_gid] }
            count = found
        }
    }

    /// The id of the group named `name`; blocking.
    static func lookUpGroupID(named name: String) -> UInt32? {
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        // A group with many members needs a large buffer.
        while getgrnam_r(name, &entry, &buffer, buffer.count, &result) == ERANGE, buffer.count < 1 << 22 {
            buffer = [CChar](repeating: 0, count: buffer.count * 4)
        }
        return result == nil ? nil : entry.gr_gid
    }
}
