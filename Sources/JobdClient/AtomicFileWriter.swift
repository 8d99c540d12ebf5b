import Foundation
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Writes a file so that it appears whole or not at all: the bytes go to `PATH.partial`
/// (mode 0600, created or truncated), which is fsynced, renamed over `PATH`, and whose
/// directory is fsynced, so a crash at any point leaves either the old file or the new
/// one, never a torn one. Blocking calls run on an `NIOThreadPool`, never on the
/// caller's thread.
///
/// - Important: Call `commit()` once everything is written, or `discard()`; a writer
///   dropped without either closes its descriptor and leaves `PATH.partial` behind.
public final class AtomicFileWriter: Sendable {
    /// The file that `commit()` makes.
    public let path: String
    /// Where the bytes are written until then.
    public let partialPath: String
    private let descriptor: CInt
    private let threadPool: NIOThreadPool
    private let isOpen: Mutex<Bool>

    /// Creates (or truncates) `PATH.partial`, readable and writable by its owner only: a
    /// database copy holds every job's spec and result.
    ///
    /// - Throws: `ClientError` `cannot_write` naming the file when it cannot be created.
    public init(path: String, threadPool: NIOThreadPool = .singleton) async throws {
        self.path = path
        partialPath = path + ".partial"
        self.threadPool = threadPool
        let partialPath = partialPath
        descriptor = try await threadPool.runIfActive {
            let descriptor = open(partialPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw AtomicFileWriter.failure("cannot create \(partialPath)") }
            return descriptor
        }
        isOpen = Mutex(true)
    }

    /// Appends `buffer`.
    ///
    /// - Throws: `ClientError` `cannot_write` (a full disk says so).
    public func write(_ buffer: ByteBuffer) async throws {
        let (descriptor, partialPath) = (descriptor, partialPath)
        try await threadPool.runIfActive {
            try buffer.withUnsafeReadableBytes { bytes in
                guard let base = bytes.baseAddress else { return }
                var offset = 0
                while offset < bytes.count {
                    let written = Glibc.write(descriptor, base + offset, bytes.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        throw Self.failure("cannot write \(partialPath)")
                    }
                    offset += written
                }
            }
        }
    }

    /// Makes the file durable under its final name: fsync, close, rename, then an fsync
    /// of the directory.
    ///
    /// - Throws: `ClientError` `cannot_write`; `PATH.partial` is then removed and `PATH`
    ///   is as it was.
    public func commit() async throws {
        guard
            isOpen.withLock({ open in
                defer { open = false }
                return open
            })
        else { return }
        let (descriptor, path, partialPath) = (descriptor, path, partialPath)
        try await threadPool.runIfActive {
            let syncError = fsync(descriptor) == 0 ? 0 : errno
            let closeError = close(descriptor) == 0 ? 0 : errno
            guard syncError == 0, closeError == 0 else {
                unlink(partialPath)
                throw Self.failure("cannot sync \(partialPath)", errno: syncError != 0 ? syncError : closeError)
            }
            guard rename(partialPath, path) == 0 else {
                let renameError = errno
                unlink(partialPath)
                throw Self.failure("cannot rename \(partialPath) to \(path)", errno: renameError)
            }
            // The rename is durable once the directory is: best effort, since some file
            // systems refuse to fsync a directory.
            let directory = (path as NSString).deletingLastPathComponent
            let directoryDescriptor = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if directoryDescriptor >= 0 {
                _ = fsync(directoryDescriptor)
                close(directoryDescriptor)
            }
        }
    }

    /// Closes and removes `PATH.partial`; `PATH` is left as it was.
    public func discard() async {
        guard
            isOpen.withLock({ open in
                defer { open = false }
                return open
            })
        else { return }
        let (descriptor, partialPath) = (descriptor, partialPath)
        try? await threadPool.runIfActive {
            close(descriptor)
            unlink(partialPath)
        }
    }

    /// `cannot_write` with the message and the system's reason for `code`.
    private static func failure(_ message: String, errno code: CInt = errno) -> ClientError {
        ClientError(.cannotWrite, "\(message): \(String(cString: strerror(code)))")
    }

    deinit {
        if isOpen.withLock({ $0 }) { close(descriptor) }
    }
}
