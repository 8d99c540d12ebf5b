import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Reads a database copy once, in chunks, on the NIO thread pool, and leaves nothing on
/// disk: the file is unlinked as soon as it is open, so it is gone once the descriptor
/// closes, whether the answer was sent whole, cut short, or never sent at all.
final class CopyReader: Sendable {
    private let descriptor: Mutex<CInt?>
    private let threadPool: NIOThreadPool

    /// Opens `path` for reading and unlinks it.
    ///
    /// - Throws: `IOError` when it cannot be opened (the file is then removed anyway).
    static func open(path: String, threadPool: NIOThreadPool = .singleton) async throws -> CopyReader {
        let descriptor = try await threadPool.runIfActive {
            let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
            let openError = errno
            unlink(path)
            guard descriptor >= 0 else { throw IOError(errnoCode: openError, reason: "open") }
            return descriptor
        }
        return CopyReader(descriptor: descriptor, threadPool: threadPool)
    }

    private init(descriptor: CInt, threadPool: NIOThreadPool) {
        self.descriptor = Mutex(descriptor)
        self.threadPool = threadPool
    }

    /// Up to `byteCount` bytes from `offset`; an empty buffer at the end of the file.
    ///
    /// - Throws: `IOError` for a failed read, `CancellationError` once closed.
    func read(at offset: Int64, byteCount: Int) async throws -> ByteBuffer {
        guard let descriptor = descriptor.withLock({ $0 }) else { throw CancellationError() }
        return try await threadPool.runIfActive {
            var buffer = ByteBufferAllocator().buffer(capacity: byteCount)
            _ = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: byteCount) { bytes in
                let count = pread(descriptor, bytes.baseAddress, byteCount, off_t(offset))
                guard count >= 0 else { throw IOError(errnoCode: errno, reason: "pread") }
                return count
            }
            return buffer
        }
    }

    /// Closes the descriptor (the file's last link is already gone); later calls do nothing.
    func close() {
        if let descriptor = descriptor.withLock({ value in
            defer { value = nil }
            return value
        }) {
            // close(2) of a regular file does not wait for the disk: cheap on any thread.
            Glibc.close(descriptor)
        }
    }

    deinit {
        close()
    }
}
