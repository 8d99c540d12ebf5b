import Synchronization

/// The open dashboard sessions: who each token acts as, and for how long.
///
/// `jobctl dashboard` opens a session with `POST /v1/dashboard/sessions` over the socket:
/// the session belongs to that request's peer (uid, gid and pid from `SO_PEERCRED`) and
/// lives exactly as long as that request's connection. It holds two secrets:
/// - the **token**, printed in the URL, which the browser can exchange for a cookie once;
/// - the **cookie** secret, which every later dashboard request carries.
///
/// Both die with the session. Secrets are 256 bits from the system's random source,
/// compared by dictionary look-up (no secret is ever logged).
public final class DashboardSessions: Sendable {
    /// An open session.
    struct Session: Sendable {
        var token: String
        var cookie: String
        /// The peer that opened it: requests made with it act as this peer.
        var peer: PeerCredentials
        var isTokenUsed = false
        var ended: AsyncStream<Void>.Continuation
    }

    private struct State {
        var byToken: [String: Session] = [:]
        var tokenByCookie: [String: String] = [:]
    }

    private let state = Mutex(State())

    /// Makes an empty registry.
    public init() {}

    /// How many sessions are open.
    public var count: Int { state.withLock { $0.byToken.count } }

    /// Opens a session for `peer`.
    ///
    /// - Returns: The token, and a stream that finishes when the session is revoked.
    public func open(for peer: PeerCredentials) -> (token: String, ended: AsyncStream<Void>) {
        let (ended, continuation) = AsyncStream.makeStream(of: Void.self)
        let session = Session(
            token: Self.secret(), cookie: Self.secret(), peer: peer, ended: continuation)
        state.withLock { state in
            state.byToken[session.token] = session
            state.tokenByCookie[session.cookie] = session.token
        }
        return (session.token, ended)
    }

    /// Ends the session of `token`: its token and cookie are refused from now on. Does
    /// nothing for an unknown token.
    public func revoke(token: String) {
        let session = state.withLock { state -> Session? in
            guard let session = state.byToken.removeValue(forKey: token) else { return nil }
            state.tokenByCookie[session.cookie] = nil
            return session
        }
        session?.ended.finish()
    }

    /// Ends every session (the daemon stops).
    public func revokeAll() {
        let sessions = state.withLock { state in
            let sessions = Array(state.byToken.values)
            state = State()
            return sessions
        }
        for session in sessions { session.ended.finish() }
    }

    /// True when `peer` is the process of an open session (a `jobctl dashboard` that
    /// forwards a browser's requests): its requests must carry the session's secrets.
    func isSessionProcess(_ peer: PeerCredentials) -> Bool {
        state.withLock { state in
            state.byToken.values.contains { $0.peer.pid == peer.pid && $0.peer.uid == peer.uid }
        }
    }

    /// Uses `token` up: the session's cookie secret and peer, or nil when the token is
    /// unknown, revoked, or was already exchanged.
    ///
    /// - Parameter isAllowed: Checks the session's peer first; when it throws, the token
    ///   is left unused and the error is thrown.
    func exchange(token: String, isAllowed: (PeerCredentials) throws -> Void) rethrows -> (
        cookie: String, peer: PeerCredentials
    )? {
        try state.withLock { state in
            guard var session = state.byToken[token], !session.isTokenUsed else { return nil }
            try isAllowed(session.peer)
            session.isTokenUsed = true
            state.byToken[token] = session
            return (session.cookie, session.peer)
        }
    }

    /// The peer of the session whose cookie secret is `cookie`, or nil when none is open.
    func peer(cookie: String) -> PeerCredentials? {
        state.withLock { state in
            state.tokenByCookie[cookie].flatMap { state.byToken[$0]?.peer }
        }
    }

    /// 32 random bytes from the system's generator (getrandom), as 64 hex digits.
    static func secret() -> String {
        var generator = SystemRandomNumberGenerator()
        var text = ""
        for _ in 0..<4 {
            let word = generator.next()
            let hex = String(word, radix: 16)
            text += String(repeating: "0", count: 16 - hex.count) + hex
        }
        return text
    }
}
