import Foundation
import HTTPTypes
import Hummingbird
import JobdModel

/// Decides whether a request is a dashboard request, and if so who it acts as.
///
/// A request is a **dashboard request** when it arrived on the loopback TCP listener, or
/// on the socket from the process of an open dashboard session (`jobctl dashboard`'s
/// forwarder: its connections carry its pid). Any other socket request is **direct**:
/// its peer credentials alone decide, as always.
///
/// A dashboard request:
/// - must be a `GET` (the dashboard is read-only; a forwarded request can never submit,
///   cancel, pause or open another session): else 403 `forbidden`;
/// - must name a loopback host (`127.0.0.1`, `localhost`, `[::1]`), against DNS
///   rebinding: else 403 `forbidden`;
/// - with `token=` in its query, exchanges the token (once) for the session's cookie: the
///   answer is a 303 to the same path without the query, setting the cookie
///   (`HttpOnly; SameSite=Strict; Path=/`);
/// - otherwise needs the cookie of an open session.
/// No or an unknown (or ended) secret is 401 `unauthorized`; a session of another uid
/// than the forwarding peer (on TCP: than the connecting uid, which `LoopbackOwner` found;
/// root may use any) is 403 `forbidden`. An accepted request acts as the session's peer.
struct DashboardGate: Sendable {
    /// What to do with a request.
    enum Verdict {
        /// Not a dashboard request: the peer's credentials decide.
        case direct
        /// A dashboard request acting as this peer.
        case dashboard(PeerCredentials)
        /// Answer with this (the token exchange's redirect).
        case respond(Response)
    }

    let sessions: DashboardSessions

    /// `Host`, spelled out: HTTPTypes hides the name in favour of `authority`.
    static let hostHeader = HTTPField.Name("Host")!

    /// The cookie's name: per port, since browsers share cookies across the ports of a
    /// host and two dashboards (two users, or two daemons) may be open at once.
    static func cookieName(host: String?) -> String {
        guard let host, let colon = host.lastIndex(of: ":"), !host.hasSuffix("]") else { return "jobd_dashboard" }
        let port = host[host.index(after: colon)...]
        guard !port.isEmpty, port.allSatisfy(\.isASCII), port.allSatisfy(\.isNumber) else { return "jobd_dashboard" }
        return "jobd_dashboard_\(port)"
    }

    /// True when `host` (a `Host` header) names the loopback interface.
    static func isLoopback(host: String?) -> Bool {
        guard var name = host?.lowercased() else { return false }
        if name.hasPrefix("[") {
            guard let end = name.firstIndex(of: "]") else { return false }
            name = String(name[...end])
            return name == "[::1]"
        }
        if let colon = name.firstIndex(of: ":") { name = String(name[..<colon]) }
        return name == "127.0.0.1" || name == "localhost"
    }

    /// The value of cookie `name` in a `Cookie` header.
    static func cookie(_ name: String, in header: String?) -> String? {
        guard let header else { return nil }
        for pair in header.split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name {
                return parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    /// The verdict on `request`, which arrived over `transport` from `peer` (over TCP: the
    /// connecting uid only).
    ///
    /// - Throws: `APIError` `unauthorized` or `forbidden`.
    func verdict(for request: Request, transport: ServerTransport, peer: PeerCredentials) throws -> Verdict {
        switch transport {
        case .unixSocket:
            guard sessions.isSessionProcess(peer) else { return .direct }
        case .loopbackTCP:
            break
        }
        let forwarder = peer
        guard request.method == .get else {
            throw APIError(.forbidden, "the dashboard is read-only: \(request.method) is not allowed through it")
        }
        // HTTP/1.1's Host header becomes the authority (and leaves the fields); in-memory
        // tests set the header.
        let host = request.headers[Self.hostHeader] ?? request.head.authority
        guard Self.isLoopback(host: host) else {
            throw APIError(.forbidden, "dashboard requests must name 127.0.0.1, localhost or [::1] as their host")
        }
        let name = Self.cookieName(host: host)
        if let token = request.uri.queryParameters.get("token") {
            // Checked before the token is used up: a token shown at the wrong forwarder
            // stays good for its own user.
            guard
                let (cookie, _) = try sessions.exchange(
                    token: token, isAllowed: { try Self.check($0, against: forwarder, transport: transport) })
            else {
                throw APIError(
                    .unauthorized,
                    "this dashboard token is unknown, already used, or its jobctl dashboard ended; run jobctl dashboard for a new URL"
                )
            }
            return .respond(Self.redirect(request, cookieName: name, cookie: cookie))
        }
        guard let cookie = Self.cookie(name, in: request.headers[.cookie]) else {
            throw APIError(.unauthorized, "the dashboard needs the URL that jobctl dashboard prints")
        }
        guard let owner = sessions.peer(cookie: cookie) else {
            throw APIError(
                .unauthorized, "this dashboard session ended (its jobctl dashboard stopped); run jobctl dashboard again"
            )
        }
        try Self.check(owner, against: forwarder, transport: transport)
        return .dashboard(owner)
    }

    /// A session may be used only by its own user: through that user's forwarder on the
    /// socket, or from that user's (or root's) processes on the TCP listener.
    private static func check(
        _ owner: PeerCredentials, against connecting: PeerCredentials, transport: ServerTransport
    ) throws {
        let isOwn = connecting.uid == owner.uid || (transport == .loopbackTCP && connecting.uid == 0)
        guard isOwn else {
            throw APIError(
                .forbidden, "this dashboard session is uid \(owner.uid)'s; this connection is uid \(connecting.uid)'s")
        }
    }

    /// 303 to the request's path without its query (the token), setting the session
    /// cookie. Only `/ui` paths are kept, so the redirect can never leave the dashboard.
    private static func redirect(_ request: Request, cookieName: String, cookie: String) -> Response {
        let path = request.uri.path
        let location = path.hasPrefix("/ui/") || path == "/ui" ? path : APIRoutes.dashboard
        var headers = HTTPFields()
        headers[.location] = location
        headers[.setCookie] = "\(cookieName)=\(cookie); HttpOnly; SameSite=Strict; Path=/"
        headers[.cacheControl] = "no-store"
        headers[.contentLength] = "0"
        return Response(status: .seeOther, headers: headers)
    }
}
