import Foundation
import HTTPTypes
import Hummingbird
import JobdModel
import JobdStore
import Logging
import NIOCore

/// Database maintenance for admins: `POST /v1/backup` and `POST /v1/vacuum`.
///
/// A backup is answered as the bytes of a consistent copy (`application/vnd.sqlite3`,
/// with its `Content-Length`), which the caller writes where it likes as itself: the
/// daemon, sandboxed to its state directory, never writes the caller's file
/// (docs/decisions.md, issue 14).
struct MaintenanceController: Sendable {
    typealias Context = JobdRequestContext

    let store: any JobStore

    /// Bytes read from the copy and written to the socket at a time.
    static let chunkBytes = 1 << 20

    func add(to router: Router<Context>) {
        router.post("/v1/backup", use: backup)
        router.post("/v1/vacuum", use: vacuum)
    }

    /// `POST /v1/backup`: the store makes a copy beside the database; it is opened, unlinked
    /// and streamed, so it takes space there only until the answer ends.
    @Sendable func backup(_ request: Request, context: Context) async throws -> Response {
        let caller = try context.requireCaller()
        try caller.requireAdmin(to: "back up the database")
        let started = ContinuousClock.now
        let copy = try await store.backup()
        let reader = try await CopyReader.open(path: copy.path)
        let logger = context.logger
        logger.notice(
            "backup copy made",
            metadata: [
                "backup.bytes": "\(copy.bytes)", "backup.seconds": "\((ContinuousClock.now - started).secondsValue)",
                "peer.uid": "\(caller.peer.uid)",
            ])
        var headers = HTTPFields()
        headers[.contentType] = "application/vnd.sqlite3"
        headers[.contentLength] = String(copy.bytes)
        headers[.cacheControl] = "no-store"
        let size = copy.bytes
        let body = ResponseBody(contentLength: Int(size)) { writer in
            defer { reader.close() }
            var offset: Int64 = 0
            while offset < size {
                let chunk = try await reader.read(at: offset, byteCount: Self.chunkBytes)
                // A copy that shrank under us cannot happen (nothing else has it open);
                // end rather than spin.
                guard chunk.readableBytes > 0 else { break }
                offset += Int64(chunk.readableBytes)
                try await writer.write(chunk)
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// `POST /v1/vacuum`: sizes before and after, and how long every write waited.
    @Sendable func vacuum(_ request: Request, context: Context) async throws -> Response {
        let caller = try context.requireCaller()
        try caller.requireAdmin(to: "vacuum the database")
        let before = try await store.size()
        let started = ContinuousClock.now
        try await store.vacuum()
        let seconds = (ContinuousClock.now - started).secondsValue
        let after = try await store.size()
        context.logger.notice(
            "database vacuumed",
            metadata: [
                "vacuum.bytes_before": "\(before.bytes)", "vacuum.bytes_after": "\(after.bytes)",
                "vacuum.seconds": "\(seconds)", "peer.uid": "\(caller.peer.uid)",
            ])
        return try JSONBody.response(
            VacuumResponse(
                bytesBefore: before.bytes, bytesAfter: after.bytes, freeBytesBefore: before.freeBytes,
                freeBytesAfter: after.freeBytes, seconds: seconds))
    }
}
