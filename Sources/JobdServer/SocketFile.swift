import Foundation
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// The socket file's life: refuse a live one, remove a stale one, remove ours at exit.
public enum SocketFile {
    /// Why the socket path cannot be used.
    public struct InUse: Error, CustomStringConvertible {
        public var description: String
    }

    /// Makes `path` ready to bind: creates its directory (mode 0755), refuses to go on if a
    /// process answers on it, and removes it if it is a stale socket.
    ///
    /// Runs its blocking system calls on NIO's thread pool.
    ///
    /// - Throws: `InUse` when a live server answers, or the path is not a socket, or the
    ///   directory cannot be made.
    public static func prepare(path: String) async throws {
        try await NIOThreadPool.singleton.runIfActive {
            try prepareBlocking(path: path)
        }
    }

    /// Why the socket's group cannot be set.
    public struct GroupError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Gives the socket file at `path` the group `group` (a name or a number), keeping its
    /// owner.
    ///
    /// Runs its blocking calls (the group look-up through NSS, `chown`) on NIO's thread pool.
    ///
    /// - Throws: `GroupError` when no group has that name, or `chown` fails (`EPERM` when
    ///   the daemon is neither root nor a member of the group).
    public static func setGroup(path: String, group: String) async throws {
        try await NIOThreadPool.singleton.runIfActive {
            guard let gid = UInt32(group) ?? UserDirectory.lookUpGroupID(named: group) else {
                throw GroupError(description: "no group is named \(group.debugDescription)")
            }
            // uid_t(-1): leave the owner as it is.
            guard chown(path, uid_t.max, gid) == 0 else {
                let code = errno
                throw GroupError(
                    description: "chown to group \(group) (gid \(gid)) failed: \(String(cString: strerror(code)))")
            }
        }
    }

    /// Removes the socket file if it is still a socket. Errors are ignored: at exit there
    /// is nothing better to do.
    public static func remove(path: String) {
        if isSocket(path) { unlink(path) }
    }

    private static func prepareBlocking(path: String) throws {
        guard path.utf8.count < 108 else {
            throw InUse(
                description: "the socket path \(path) is \(path.utf8.count) bytes; Unix socket paths must be under 108")
        }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty && !FileManager.default.fileExists(atPath: directory) {
            do {
                // Owner and group: the socket's group may connect, nobody else may look.
                try FileManager.default.createDirectory(
                    atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
            } catch {
                throw InUse(
                    description: "cannot create the socket directory \(directory): \(error.localizedDescription)")
            }
        } else if !directory.isEmpty,
            let owner = (try? FileManager.default.attributesOfItem(atPath: directory))?[.ownerAccountID] as? NSNumber,
            owner.uint32Value != geteuid(), owner.uint32Value != 0
        {
            // Another user made this directory (say /tmp/jobd-1000 on a shared machine):
            // a socket there could be replaced or watched by them.
            throw InUse(
                description:
                    "the socket directory \(directory) belongs to uid \(owner), not to this user; remove it or choose another --socket"
            )
        }
        guard FileManager.default.fileExists(atPath: path) || isSocket(path) else { return }
        guard isSocket(path) else {
            throw InUse(description: "\(path) exists and is not a socket; remove it or choose another --socket")
        }
        if isAnswering(path) {
            throw InUse(description: "another jobd is already serving on \(path)")
        }
        unlink(path)
    }

    /// True when `path` is a socket file (not following a symlink).
    static func isSocket(_ path: String) -> Bool {
        let type = (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType
        return type == .typeSocket
    }

    /// True when something accepts connections on the socket at `path`.
    static func isAnswering(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.initializeMemory(as: UInt8.self, repeating: 0)
            buffer.copyBytes(from: path.utf8.prefix(buffer.count - 1))
        }
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return result == 0
    }
}
