import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The listening socket systemd passed to jobd (socket activation), as sd_listen_fds(3)
/// reads it: descriptors from 3, `$LISTEN_FDS` of them, for the process `$LISTEN_PID`,
/// named by `$LISTEN_FDNAMES`.
///
/// jobd serves on the first listening `AF_UNIX` stream socket among them (the one at the
/// configured socket path when several are) instead of binding its own. The socket
/// belongs to systemd's socket unit: jobd neither unlinks nor chmods it, and a restart of
/// jobd leaves it open, so connections wait in its backlog for the next process.
struct SocketActivation: Sendable, Equatable {
    /// The listening descriptor.
    var descriptor: Int32
    /// The socket's path (`getsockname`); empty for an unnamed or abstract socket.
    var path: String
    /// Its name from `$LISTEN_FDNAMES` (`FileDescriptorName=`, by default the socket unit's name).
    var name: String?
    /// Descriptors passed but not used, described for a warning.
    var ignored: [String] = []

    /// Why the passed descriptors cannot be served on.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The variables sd_listen_fds(3) reads and then unsets.
    static let variables = ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"]

    /// The socket systemd passed, or nil when it passed none to this process.
    ///
    /// Sets `FD_CLOEXEC` on every passed descriptor, so jobd's children never inherit them.
    ///
    /// - Parameters:
    ///   - environment: The process environment.
    ///   - pid: This process's id: the variables count only when `$LISTEN_PID` names it
    ///     (they may have been inherited from a parent they were meant for).
    ///   - preferredPath: The configured socket path, preferred when several sockets are passed.
    ///   - firstDescriptor: Where the passed descriptors start: 3 (`SD_LISTEN_FDS_START`),
    ///     another number only in tests.
    /// - Throws: `Failure` when `$LISTEN_FDS` is malformed or none of the descriptors is a
    ///   listening `AF_UNIX` stream socket.
    static func take(
        environment: [String: String], pid: Int32, preferredPath: String, firstDescriptor: Int32 = 3
    ) throws -> SocketActivation? {
        guard let pidText = environment["LISTEN_PID"], let countText = environment["LISTEN_FDS"] else { return nil }
        guard Int32(pidText) == pid else { return nil }
        guard let count = Int32(countText), count >= 0, count < 1024 else {
            throw Failure(description: "LISTEN_FDS=\(countText) is not a count of file descriptors")
        }
        guard count > 0 else { return nil }
        let names = environment["LISTEN_FDNAMES"].map { $0.split(separator: ":", omittingEmptySubsequences: false) }
        var candidates: [SocketActivation] = []
        var others: [String] = []
        for index in 0..<count {
            let descriptor = firstDescriptor + index
            let name = names.flatMap { Int(index) < $0.count ? String($0[Int(index)]) : nil }
            let flags = fcntl(descriptor, F_GETFD)
            guard flags >= 0 else {
                others.append("fd \(descriptor) (not open)")
                continue
            }
            _ = fcntl(descriptor, F_SETFD, flags | FD_CLOEXEC)
            guard let path = listeningUnixStreamPath(descriptor) else {
                others.append("fd \(descriptor)\(name.map { " (\($0))" } ?? ""): not a listening Unix stream socket")
                continue
            }
            candidates.append(SocketActivation(descriptor: descriptor, path: path, name: name))
        }
        guard !candidates.isEmpty else {
            throw Failure(
                description: "systemd passed \(count) file descriptor(s) (LISTEN_FDS) but none is a listening "
                    + "Unix stream socket: \(others.joined(separator: "; "))")
        }
        var chosen = candidates.first { $0.path == preferredPath } ?? candidates[0]
        chosen.ignored =
            others
            + candidates.filter { $0.descriptor != chosen.descriptor }.map {
                "fd \($0.descriptor) (\($0.path)): another socket; jobd serves on one"
            }
        return chosen
    }

    /// Removes the variables from the environment, so that no child sees them.
    ///
    /// - Important: Call it before other threads read the environment (`unsetenv` is not
    ///   thread-safe): first thing in the process.
    static func unsetEnvironment() {
        for variable in variables { unsetenv(variable) }
    }

    /// The path of `descriptor` when it is a listening `AF_UNIX` stream socket, else nil.
    static func listeningUnixStreamPath(_ descriptor: Int32) -> String? {
        var type: Int32 = 0
        var accepting: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(descriptor, SOL_SOCKET, SO_TYPE, &type, &length) == 0, type == Int32(SOCK_STREAM.rawValue)
        else { return nil }
        length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(descriptor, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &length) == 0, accepting == 1 else {
            return nil
        }
        var address = sockaddr_un()
        length = socklen_t(MemoryLayout<sockaddr_un>.size)
        let named = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0, address.sun_family == sa_family_t(AF_UNIX) else { return nil }
        return withUnsafeBytes(of: &address.sun_path) { bytes in
            // An abstract socket starts with a NUL: no path to show.
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// How logs and `--check-config` describe it.
    var summary: String {
        "fd \(descriptor), \(path.isEmpty ? "unnamed" : path)\(name.map { ", name \($0)" } ?? "")"
    }
}
