import Foundation
import HTTPTypes
import Hummingbird
import JobdModel
import Logging
import NIOCore
import ServiceLifecycle

/// The web dashboard: its session route and its static files.
///
/// - `POST /v1/dashboard/sessions` (over the socket only: dashboard requests are
///   `GET`-only) opens a session for the caller's peer. The answer is one JSON line
///   (`DashboardSessionResponse`) and then stays open: the session ends, and its token and
///   cookie with it, when the connection closes or jobd stops.
/// - `GET /ui` and `GET /ui/{file}` serve the pages (`DashboardAssets`), each with a
///   strict Content-Security-Policy: scripts and styles from jobd only, no inline code,
///   no framing.
struct DashboardController: Sendable {
    typealias Context = JobdRequestContext

    let sessions: DashboardSessions

    func add(to router: Router<Context>) {
        router.post("/v1/dashboard/sessions", use: openSession)
        router.get("/ui", use: index)
        router.get("/ui/{file}", use: file)
    }

    @Sendable func openSession(_ request: Request, context: Context) async throws -> Response {
        let caller = try context.requireCaller()
        let sessions = self.sessions
        let (token, ended) = sessions.open(for: caller.peer)
        // The connection's end is the session's end: jobctl's process exited or was killed.
        context.channel.closeFuture.whenComplete { _ in sessions.revoke(token: token) }
        context.logger.info("dashboard session opened", metadata: ["peer.uid": "\(caller.peer.uid)"])
        let line = try JSONCoding.makeEncoder().encode(DashboardSessionResponse(token: token, uid: caller.peer.uid))
        var headers = HTTPFields()
        headers[.contentType] = "application/x-ndjson"
        headers[.cacheControl] = "no-store"
        let logger = context.logger
        return Response(
            status: .created, headers: headers,
            body: ResponseBody { writer in
                defer { sessions.revoke(token: token) }
                var buffer = ByteBuffer(bytes: line)
                buffer.writeString("\n")
                try await writer.write(buffer)
                // Held open until the session ends; a graceful shutdown ends it so the
                // server can stop.
                await withGracefulShutdownHandler {
                    for await _ in ended {}
                } onGracefulShutdown: {
                    sessions.revoke(token: token)
                }
                logger.info("dashboard session ended")
                try await writer.finish(nil)
            })
    }

    @Sendable func index(_ request: Request, context: Context) async throws -> Response {
        try Self.asset(named: "index.html")
    }

    @Sendable func file(_ request: Request, context: Context) async throws -> Response {
        try Self.asset(named: context.parameters.require("file"))
    }

    /// The asset `name` with its type and the dashboard's security headers.
    ///
    /// - Throws: `APIError` `route_not_found` for an unknown name.
    static func asset(named name: String) throws -> Response {
        guard let asset = DashboardAssets.all[name] else {
            throw APIError(.routeNotFound, "no dashboard file \(name)")
        }
        var headers = HTTPFields()
        headers[.contentType] = asset.contentType
        headers[.contentLength] = String(asset.body.utf8.count)
        headers[.contentSecurityPolicy] = DashboardAssets.contentSecurityPolicy
        headers[.xContentTypeOptions] = "nosniff"
        headers[.referrerPolicy] = "no-referrer"
        headers[.xFrameOptions] = "DENY"
        // Small, and the binary is their only version: revalidate each load rather than
        // serve a stale script after an upgrade.
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: asset.body)))
    }
}

extension HTTPField.Name {
    /// `Referrer-Policy` (not among HTTPTypes' names).
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    /// `X-Frame-Options` (not among HTTPTypes' names).
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
}
