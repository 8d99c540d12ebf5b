import Foundation
import JobdStore

#if canImport(Glibc)
    import Glibc
#endif

/// An exclusive lock on a database, held for the life of the daemon.
///
/// Two daemons on one database would each treat the other's running attempts as
/// crashed. The lock is `flock` on `<database>.lock`; the kernel drops it when the
/// process dies, so a kill -9 never leaves it stale.
public final class DatabaseLock: Sendable {
    private let fd: Int32
    /// The lock file's path.
    public let path: String

    /// Takes the lock without waiting.
    ///
    /// Blocking file I/O: call it during start-up, before serving.
    ///
    /// - Throws: `StoreError` with `busy` when another process holds it, `read_only` when
    ///   the lock file cannot be created.
    public init(databasePath: String) throws {
        path = databasePath + ".lock"
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try? FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw StoreError(.readOnly, "cannot create the lock file \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw StoreError(.busy, "another jobd is using the database \(databasePath) (its lock \(path) is held)")
        }
        self.fd = fd
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
