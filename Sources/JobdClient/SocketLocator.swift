import Foundation
import JobdModel

#if canImport(Glibc)
    import Glibc
#endif

/// Finds the socket a client should use.
///
/// An explicit socket (`--socket`, `$JOBD_SOCKET`) is used as given: a path, or the same
/// path as a `unix://` URL. Without one, the client tries the user's own socket (the
/// default `jobd` uses for this user) and then the system daemon's, `/run/jobd/jobd.sock`,
/// and takes the first that exists, so a member of the `jobd` group reaches the shared
/// daemon without configuration while a private daemon still wins when it runs.
public struct SocketLocator: Sendable {
    /// The system daemon's socket (the unit's `RuntimeDirectory=jobd`).
    public static let systemSocket = "/run/jobd/jobd.sock"

    /// What a probe of a path found.
    public enum Presence: Sendable, Equatable {
        /// Nothing is there (or a parent directory is missing).
        case missing
        /// Something is there, or the caller may not look (a directory it cannot search
        /// is treated as present, so the permission error is reported on connect).
        case present
    }

    /// The user's default socket.
    public var userSocket: String
    /// The shared daemon's socket, tried after the user's.
    public var systemSocket: String
    /// Whether something exists at a path.
    public var probe: @Sendable (String) -> Presence

    /// A locator for the calling user with the real file system.
    ///
    /// - Parameters:
    ///   - uid: The caller's effective uid (root's default is the system socket itself).
    ///   - environment: The process environment (`XDG_RUNTIME_DIR`).
    public init(uid: UInt32 = geteuid(), environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.init(
            userSocket: DefaultPaths(uid: uid, environment: environment).socket, systemSocket: Self.systemSocket,
            probe: Self.fileSystemProbe)
    }

    /// A locator with given paths and probe (for tests).
    public init(userSocket: String, systemSocket: String, probe: @escaping @Sendable (String) -> Presence) {
        self.userSocket = userSocket
        self.systemSocket = systemSocket
        self.probe = probe
    }

    /// The paths tried without an explicit socket, in order, without repeats.
    public var candidates: [String] {
        userSocket == systemSocket ? [userSocket] : [userSocket, systemSocket]
    }

    /// The socket to use.
    ///
    /// - Parameter explicit: `--socket` or `$JOBD_SOCKET`, if given (empty means not given).
    /// - Returns: The explicit path (a `unix://` URL reduced to its path); else the first
    ///   candidate that exists; else the user's socket, so the error names where a private
    ///   daemon would listen.
    /// - Throws: `ClientError` `invalid_socket` for a URL of another scheme or without a path.
    public func resolve(explicit: String?) throws -> String {
        if let explicit, !explicit.isEmpty { return try Self.path(of: explicit) }
        return candidates.first { probe($0) == .present } ?? userSocket
    }

    /// The socket path of an explicit `--socket` value: a path, or a `unix://` URL.
    ///
    /// - Parameter value: `/run/jobd/jobd.sock` or `unix:///run/jobd/jobd.sock`.
    /// - Returns: The path.
    /// - Throws: `ClientError` `invalid_socket` for `http://…` and other schemes, or a
    ///   `unix://` URL without an absolute path.
    public static func path(of value: String) throws -> String {
        if value.hasPrefix("unix://") {
            let path = String(value.dropFirst("unix://".count))
            guard path.hasPrefix("/") else {
                throw ClientError(
                    .invalidSocket,
                    "--socket \(value): a unix:// URL needs an absolute path, as in unix:///run/jobd/jobd.sock")
            }
            return path
        }
        if let scheme = value.firstRange(of: "://") {
            throw ClientError(
                .invalidSocket,
                "--socket \(value): jobd listens on a Unix socket; give its path or a unix:// URL, not "
                    + "\(value[..<scheme.lowerBound])://")
        }
        return value
    }

    /// `lstat` the path: missing for ENOENT and ENOTDIR, present otherwise.
    @Sendable public static func fileSystemProbe(_ path: String) -> Presence {
        var info = stat()
        if lstat(path, &info) == 0 { return .present }
        return errno == ENOENT || errno == ENOTDIR ? .missing : .present
    }
}
