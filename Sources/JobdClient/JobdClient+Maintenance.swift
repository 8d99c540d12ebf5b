import AsyncHTTPClient
import Foundation
import JobdModel
import NIOCore
import NIOHTTP1

extension JobdClient {
    /// How long a backup or a vacuum may take before the client gives up (1 h): the daemon
    /// answers a backup once its copy is made, a vacuum once it is done.
    public static let maintenanceDeadline: Duration = .seconds(3600)

    /// Copies the database, consistent as of one instant while jobd keeps running, into
    /// the file at `path`, written by this process (so it belongs to the caller).
    ///
    /// The bytes go to `PATH.partial`, which is fsynced and then renamed over `PATH`: the
    /// file appears whole or not at all, and an older backup at `PATH` stays until the new
    /// one is complete. The copy is a SQLite database that `jobd --database PATH` starts on.
    ///
    /// - Parameter path: The file to write.
    /// - Returns: The file, its size and how long the backup took.
    /// - Throws: `APIError` (`forbidden` unless admin, `not_supported` on PostgreSQL,
    ///   `disk_full` when the daemon's copy does not fit beside the database),
    ///   `ClientError` (`cannot_write` for the local file, `bad_response` for an answer cut
    ///   short, `daemon_unreachable`, `timeout`). No file is left at `PATH.partial`.
    public func backup(to path: String) async throws -> BackupReport {
        let started = ContinuousClock.now
        let deadline = Self.maintenanceDeadline
        let response: HTTPClientResponse
        do {
            response = try await start(.POST, APIRoutes.backup, accept: "application/vnd.sqlite3", deadline: deadline)
        } catch {
            throw ClientError.wrapping(error, socketPath: socketPath, deadline: deadline)
        }
        guard (200..<300).contains(response.status.code) else {
            let body: ByteBuffer
            do {
                body = try await response.body.collect(upTo: 1 << 20)
            } catch {
                throw ClientError.wrapping(error, socketPath: socketPath, deadline: deadline)
            }
            throw Self.error(status: response.status, headers: response.headers, body: Data(body.readableBytesView))
        }
        guard response.headers.first(name: "Content-Type") == "application/vnd.sqlite3" else {
            throw ClientError(
                .badResponse, "jobd at \(socketPath) answered the backup with something else than a database")
        }
        let expected = response.headers.first(name: "Content-Length").flatMap { Int64($0) }
        let file = try await AtomicFileWriter(path: path)
        var written: Int64 = 0
        do {
            var chunks = response.body.makeAsyncIterator()
            while true {
                let chunk: ByteBuffer?
                do {
                    chunk = try await chunks.next()
                } catch {
                    throw ClientError.wrapping(error, socketPath: socketPath, deadline: deadline)
                }
                guard let chunk else { break }
                try await file.write(chunk)
                written += Int64(chunk.readableBytes)
            }
            if let expected, written != expected {
                throw ClientError(
                    .badResponse, "jobd at \(socketPath) ended the backup after \(written) of \(expected) bytes")
            }
            try await file.commit()
        } catch {
            await file.discard()
            throw error
        }
        return BackupReport(file: path, bytes: written, seconds: (ContinuousClock.now - started).secondsValue)
    }

    /// Gives the database's free space back, and answers its size before and after.
    ///
    /// On SQLite this rewrites the whole database file, and every write (submits, the
    /// dispatcher's claims and finishes) waits until it is done; on PostgreSQL it runs
    /// `VACUUM (ANALYZE)` on jobd's tables.
    ///
    /// - Returns: The sizes and how long it took.
    /// - Throws: `APIError` (`forbidden` unless admin, `disk_full`), or `ClientError`.
    public func vacuum() async throws -> VacuumResponse {
        try await send(.POST, APIRoutes.vacuum, deadline: Self.maintenanceDeadline, as: VacuumResponse.self)
    }
}
