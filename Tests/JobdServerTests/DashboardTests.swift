import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JobdModel
import JobdRuntime
import JobdStore
import JobdStoreSQLite
import Logging
import NIOCore
import Testing

@testable import JobdServer

/// The dashboard through the router: sessions, tokens, cookies, the pages' headers.
///
/// In these tests every header-named peer has pid 4242 (`TestPeer.fromHeader`), so a
/// session opened for `(uid, 4242)` makes that uid's requests forwarded ones, as the
/// requests of `jobctl dashboard`'s own process are.
@Suite struct DashboardTests {
    static func forwarder(_ peer: PeerCredentials) -> PeerCredentials {
        PeerCredentials(uid: peer.uid, gid: peer.gid, pid: 4242)
    }

    static func headers(_ peer: PeerCredentials, cookie: String? = nil, host: String = "127.0.0.1:8765") -> HTTPFields {
        var fields = TestPeer.headers(peer)
        fields[DashboardGate.hostHeader] = host
        if let cookie { fields[.cookie] = cookie }
        return fields
    }

    func withDashboard(
        _ body: @escaping @Sendable (any TestClientProtocol, DashboardSessions, StatsHistory) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("jobd-dash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteJobStore(path: directory.appendingPathComponent("jobs.sqlite").path)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let events = EventBroadcaster()
        let dispatcher = Dispatcher(
            store: store, executors: [.delay: DelayExecutor()], options: RuntimeOptions(), events: events,
            logger: logger)
        let sessions = DashboardSessions()
        let history = StatsHistory()
        let router = APIServer.makeRouter(
            store: store, dispatcher: dispatcher, events: events, options: ServerOptions(socketPath: "/unused"),
            peers: TestPeer.fromHeader, daemonUID: TestPeer.daemonUID, dashboard: sessions, history: history)
        let app = Application(router: router, logger: logger)
        try await app.test(.router) { client in try await body(client, sessions, history) }
    }

    @Test("a forwarded request needs the session: 401 without, the token once for a cookie, then the cookie")
    func tokenThenCookie() async throws {
        try await withDashboard { client, sessions, _ in
            let alice = Self.forwarder(TestPeer.alice)
            let (token, _) = sessions.open(for: alice)
            let bare = try await client.executeRequest(
                uri: "/ui/", method: .get, headers: Self.headers(alice), body: nil)
            #expect(bare.status == .unauthorized)
            #expect(try bare.apiError().code == .unauthorized)
            let api = try await client.executeRequest(
                uri: "/v1/stats", method: .get, headers: Self.headers(alice), body: nil)
            #expect(api.status == .unauthorized)

            let exchange = try await client.executeRequest(
                uri: "/ui/?token=\(token)", method: .get, headers: Self.headers(alice), body: nil)
            #expect(exchange.status == .seeOther)
            #expect(exchange.headers[.location] == "/ui/")
            let setCookie = try #require(exchange.headers[.setCookie])
            #expect(setCookie.hasPrefix("jobd_dashboard_8765="))
            #expect(setCookie.hasSuffix("; HttpOnly; SameSite=Strict; Path=/"))
            #expect(!setCookie.contains(token))
            let cookie = String(setCookie.prefix { $0 != ";" })

            let again = try await client.executeRequest(
                uri: "/ui/?token=\(token)", method: .get, headers: Self.headers(alice), body: nil)
            #expect(again.status == .unauthorized, "a token works once")

            let page = try await client.executeRequest(
                uri: "/ui/", method: .get, headers: Self.headers(alice, cookie: cookie), body: nil)
            #expect(page.status == .ok)
            #expect(page.headers[.contentSecurityPolicy] == DashboardAssets.contentSecurityPolicy)
            #expect(String(buffer: page.body).contains(#"<script src="/ui/app.js" defer></script>"#))
            let stats = try await client.executeRequest(
                uri: "/v1/stats", method: .get, headers: Self.headers(alice, cookie: cookie), body: nil)
            #expect(stats.status == .ok)
            #expect(stats.headers[.xContentTypeOptions] == "nosniff")
            #expect(stats.headers[.cacheControl] == "no-store")
        }
    }

    @Test("another user's token or cookie through a forwarder is 403; the session's end is 401")
    func otherUsersAndEnd() async throws {
        try await withDashboard { client, sessions, _ in
            let alice = Self.forwarder(TestPeer.alice)
            let bob = Self.forwarder(TestPeer.bob)
            let (aliceToken, _) = sessions.open(for: alice)
            let (bobToken, _) = sessions.open(for: bob)
            let stolen = try await client.executeRequest(
                uri: "/ui/?token=\(aliceToken)", method: .get, headers: Self.headers(bob), body: nil)
            #expect(stolen.status == .forbidden)
            // Refused before use: Alice's token still works for Alice.
            let own = try await client.executeRequest(
                uri: "/ui/?token=\(aliceToken)", method: .get, headers: Self.headers(alice), body: nil)
            #expect(own.status == .seeOther)

            let exchange = try await client.executeRequest(
                uri: "/ui/?token=\(bobToken)", method: .get, headers: Self.headers(bob), body: nil)
            let cookie = String(try #require(exchange.headers[.setCookie]).prefix { $0 != ";" })
            let crossed = try await client.executeRequest(
                uri: "/v1/jobs", method: .get, headers: Self.headers(alice, cookie: cookie), body: nil)
            #expect(crossed.status == .forbidden)

            sessions.revoke(token: bobToken)
            // Bob's process is an ordinary peer again; his cookie is dead wherever it goes.
            let direct = try await client.executeRequest(
                uri: "/v1/stats", method: .get, headers: Self.headers(bob), body: nil)
            #expect(direct.status == .ok)
            sessions.revoke(token: aliceToken)
            #expect(sessions.count == 0)
        }
    }

    @Test("dashboard requests are GET-only and must name a loopback host")
    func readOnlyLoopback() async throws {
        try await withDashboard { client, sessions, _ in
            let alice = Self.forwarder(TestPeer.alice)
            let (token, _) = sessions.open(for: alice)
            let submit = try await client.executeRequest(
                uri: "/v1/jobs", method: .post, headers: Self.headers(alice),
                body: ByteBuffer(string: #"{"kind":"delay","seconds":0}"#))
            #expect(submit.status == .forbidden)
            let another = try await client.executeRequest(
                uri: "/v1/dashboard/sessions", method: .post, headers: Self.headers(alice), body: nil)
            #expect(another.status == .forbidden)
            let rebound = try await client.executeRequest(
                uri: "/ui/?token=\(token)", method: .get, headers: Self.headers(alice, host: "evil.example:8765"),
                body: nil)
            #expect(rebound.status == .forbidden)
            // The refused exchange did not use the token up.
            let exchange = try await client.executeRequest(
                uri: "/ui/?token=\(token)", method: .get, headers: Self.headers(alice, host: "localhost:8765"),
                body: nil)
            #expect(exchange.status == .seeOther)
        }
    }

    @Test("a direct socket peer gets the pages and the history without a token; unknown files are 404")
    func directPeer() async throws {
        try await withDashboard { client, _, history in
            for file in [
                "index.html", "style.css", "core.js", "charts.js", "overview.js", "jobs.js", "workflows.js", "app.js",
            ] {
                let response = try await client.executeRequest(
                    uri: "/ui/\(file)", method: .get, headers: TestPeer.headers(TestPeer.alice), body: nil)
                #expect(response.status == .ok, "\(file)")
                #expect(response.headers[.contentSecurityPolicy] == DashboardAssets.contentSecurityPolicy)
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
                // No inline script or markup assembly from strings in any file.
                let text = String(buffer: response.body)
                #expect(!text.contains("innerHTML") && !text.contains("outerHTML") && !text.contains("eval("))
            }
            let missing = try await client.executeRequest(uri: "/ui/nothing.js", method: .get, headers: [:], body: nil)
            #expect(missing.status == .notFound)

            let empty = try await client.executeRequest(uri: "/v1/stats/history", method: .get, headers: [:], body: nil)
            #expect(try empty.decode(StatsHistoryResponse.self).current == nil)
            history.record(
                StatsSample(time: Date(), submitted: 5, finished: 4, failed: 1, queued: 2, running: 1),
                totals: StatsHistory.Totals(submitted: 0, finished: 0, failed: 0))
            let answer = try await client.executeRequest(
                uri: "/v1/stats/history", method: .get, headers: [:], body: nil)
            let decoded = try answer.decode(StatsHistoryResponse.self)
            #expect(decoded.intervalSeconds == 60)
            #expect(decoded.samples.map(\.finished) == [4])
            // The minute in progress: nothing happened since the sample; counts are now's.
            let current = try #require(decoded.current)
            #expect(current.submitted == 0 && current.finished == 0 && current.queued == 0)
        }
    }

    @Test("the history keeps the newest 60 samples, oldest first")
    func historyRing() {
        let history = StatsHistory()
        for minute in 0..<75 {
            history.record(
                StatsSample(
                    time: Date(timeIntervalSince1970: Double(minute) * 60), submitted: minute, finished: 0, failed: 0,
                    queued: 0, running: 0))
        }
        #expect(history.all.map(\.submitted) == Array(15..<75))
    }

    @Test("cookie names, loopback hosts and cookie parsing")
    func gateHelpers() {
        #expect(DashboardGate.cookieName(host: "127.0.0.1:8765") == "jobd_dashboard_8765")
        #expect(DashboardGate.cookieName(host: "localhost") == "jobd_dashboard")
        #expect(DashboardGate.cookieName(host: "[::1]") == "jobd_dashboard")
        #expect(DashboardGate.cookieName(host: "[::1]:80") == "jobd_dashboard_80")
        #expect(DashboardGate.isLoopback(host: "127.0.0.1:1"))
        #expect(DashboardGate.isLoopback(host: "LOCALHOST"))
        #expect(DashboardGate.isLoopback(host: "[::1]:9"))
        #expect(!DashboardGate.isLoopback(host: "127.0.0.1.evil.example"))
        #expect(!DashboardGate.isLoopback(host: "[::2]:9"))
        #expect(!DashboardGate.isLoopback(host: nil))
        #expect(DashboardGate.cookie("a", in: "b=1; a=2") == "2")
        #expect(DashboardGate.cookie("a", in: "ab=1") == nil)
        #expect(DashboardSessions.secret().count == 64)
        #expect(DashboardSessions.secret() != DashboardSessions.secret())
    }
}
