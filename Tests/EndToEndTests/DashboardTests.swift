import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The dashboard's token model with the real jobd and the real `jobctl dashboard` (issue
/// 15, must-show 3): seen from a browser's side of the loopback port.
@Suite struct DashboardTests {
    /// The port `dashboard.listen: 127.0.0.1:0` bound, from jobd's log.
    static func listenPort(_ daemon: TestDaemon) async throws -> Int {
        var port: Int?
        try await waitUntil("jobd logs its dashboard listener", deadline: .seconds(15)) {
            guard let line = daemon.log().split(separator: "\n").first(where: { $0.contains("dashboard listening") }),
                let start = line.range(of: "dashboard.listen=")?.upperBound
            else { return false }
            let address = line[start...].prefix { $0 != " " && $0 != "\"" }
            port = address.split(separator: ":").last.flatMap { Int($0) }
            return port != nil
        }
        return try #require(port)
    }

    static let csp =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

    @Test(
        "jobctl dashboard: 401 without the token, the token once for an HttpOnly SameSite=Strict cookie, GET only, and 401 once jobctl ends"
    )
    func tokenLifecycle() async throws {
        try await withTestDaemon(config: "dashboard:\n  listen: 127.0.0.1:0\n") { daemon in
            let listen = try await Self.listenPort(daemon)
            let dashboard = try await DashboardProcess.start(socketPath: daemon.socketPath)
            let forwarder = dashboard.port
            #expect(dashboard.url.hasPrefix("http://127.0.0.1:\(forwarder)/ui/?token="))
            for target in ["/ui/", "/ui/app.js", "/v1/stats", "/v1/jobs", "/v1/events"] {
                #expect(try await LoopbackHTTP.request(port: forwarder, target).status == 401, "\(target)")
                #expect(try await LoopbackHTTP.request(port: listen, target).status == 401, "\(target)")
            }
            let madeUp = String(repeating: "0", count: 64)
            #expect(try await LoopbackHTTP.request(port: forwarder, "/ui/?token=\(madeUp)").status == 401)

            let exchanged = try await LoopbackHTTP.request(port: forwarder, "/ui/?token=\(dashboard.token)")
            #expect(exchanged.status == 303)
            #expect(exchanged.headers["location"] == "/ui/")
            let setCookie = try #require(exchanged.headers["set-cookie"])
            #expect(setCookie.hasSuffix("; HttpOnly; SameSite=Strict; Path=/"), "\(setCookie)")
            let cookie = String(setCookie.prefix { $0 != ";" })
            #expect(cookie.hasPrefix("jobd_dashboard_\(forwarder)="))
            let secret = String(cookie.drop { $0 != "=" }.dropFirst())
            #expect(try await LoopbackHTTP.request(port: forwarder, "/ui/?token=\(dashboard.token)").status == 401)

            let page = try await LoopbackHTTP.request(port: forwarder, "/ui/", cookie: cookie)
            #expect(page.status == 200)
            #expect(page.headers["content-security-policy"] == Self.csp)
            #expect(page.body.contains("/ui/app.js"))
            #expect(try await LoopbackHTTP.request(port: forwarder, "/v1/stats", cookie: cookie).status == 200)
            #expect(
                try await LoopbackHTTP.request(port: forwarder, "/v1/jobs", method: "POST", cookie: cookie).status
                    == 403)
            #expect(
                try await LoopbackHTTP.request(port: forwarder, "/v1/stats", cookie: cookie, host: "evil.example:80")
                    .status == 403)

            // The same session on jobd's own listener: the cookie is named after the port.
            let listenCookie = "jobd_dashboard_\(listen)=\(secret)"
            #expect(try await LoopbackHTTP.request(port: listen, "/v1/stats", cookie: listenCookie).status == 200)
            #expect(
                try await LoopbackHTTP.request(port: listen, "/v1/pause", method: "POST", cookie: listenCookie).status
                    == 403)

            try await dashboard.end()
            try await waitUntil("jobd revokes the session of the ended jobctl", deadline: .seconds(10)) {
                (try? await LoopbackHTTP.request(port: listen, "/v1/stats", cookie: listenCookie))?.status == 401
            }
            #expect(try await LoopbackHTTP.request(port: listen, "/ui/", cookie: listenCookie).status == 401)
            #expect(!LoopbackHTTP.listens(port: forwarder))
            // Plain socket clients are unaffected throughout.
            #expect(try await daemon.jobctl(["stats"]).status == 0)
        }
    }

    @Test("jobd stopping ends the dashboard session: jobd exits 0 at once, jobctl dashboard exits 69")
    func daemonStops() async throws {
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try await daemon.start()
        let dashboard = try await DashboardProcess.start(socketPath: daemon.socketPath)
        defer { kill(dashboard.process.processIdentifier, SIGKILL) }
        let started = ContinuousClock.now
        #expect(try await daemon.stop() == 0, "\(daemon.log())")
        let stopping = ContinuousClock.now - started
        print("DashboardTests: jobd stopped in \(stopping) with a dashboard session open")
        #expect(stopping < TimingBound.duration(strict: .seconds(5), loose: .seconds(20)))
        try await waitUntil("jobctl dashboard exits", deadline: .seconds(30)) { !dashboard.process.isRunning }
        #expect(dashboard.process.terminationStatus == 69)
    }
}

private func canSwitchUsers() -> Bool {
    geteuid() == 0
        && ["/usr/bin/setpriv", "/usr/sbin/useradd"].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
}

/// The dashboard with two real users (run through setpriv).
@Suite(.serialized, .enabled(if: canSwitchUsers(), "needs root, setpriv and useradd to run jobctl as other users"))
struct DashboardUserTests {
    @Test("each user's dashboard shows their own jobs only; another user's token through a forwarder is 403")
    func twoUsers() async throws {
        let alice = try await AccessTests.ensureUser(AccessTests.userA)
        let bob = try await AccessTests.ensureUser(AccessTests.userB)
        let config = "socket:\n  mode: \"0666\"\ndashboard:\n  listen: 127.0.0.1:0\n"
        try await AccessTests.withSharedDaemon(config: config) { daemon, jobctl in
            let submitted = try await AccessTests.jobctl(
                jobctl, as: alice, ["submit", "delay", "60"], socket: daemon.socketPath)
            let aliceJob = try #require(Int(submitted.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
            let rootJob = try #require(
                Int(
                    try await daemon.jobctl(["submit", "delay", "60"]).stdout.trimmingCharacters(
                        in: .whitespacesAndNewlines)))
            func setpriv(_ user: AccessTests.User) -> [String] {
                [AccessTests.setpriv, "--reuid", "\(user.uid)", "--regid", "\(user.gid)", "--clear-groups", "--"]
            }
            let aliceDashboard = try await DashboardProcess.start(
                socketPath: daemon.socketPath, jobctl: jobctl, launcher: setpriv(alice), environment: ["HOME": "/"])
            let bobDashboard = try await DashboardProcess.start(
                socketPath: daemon.socketPath, jobctl: jobctl, launcher: setpriv(bob), environment: ["HOME": "/"])
            defer {
                kill(aliceDashboard.process.processIdentifier, SIGKILL)
                kill(bobDashboard.process.processIdentifier, SIGKILL)
            }
            // Alice's token through Bob's forwarder: refused, and not used up.
            let crossed = try await LoopbackHTTP.request(port: bobDashboard.port, "/ui/?token=\(aliceDashboard.token)")
            #expect(crossed.status == 403)
            let exchanged = try await LoopbackHTTP.request(
                port: aliceDashboard.port, "/ui/?token=\(aliceDashboard.token)")
            #expect(exchanged.status == 303)
            let cookie = String(try #require(exchanged.headers["set-cookie"]).prefix { $0 != ";" })
            let secret = String(cookie.drop { $0 != "=" }.dropFirst())
            let listed = try await LoopbackHTTP.request(port: aliceDashboard.port, "/v1/jobs", cookie: cookie)
            #expect(listed.status == 200)
            let ids = try #require(
                (try JSONSerialization.jsonObject(with: listed.data) as? [String: Any])?["jobs"] as? [[String: Any]]
            ).compactMap { $0["id"] as? Int }
            #expect(ids == [aliceJob], "alice sees her job only, not root's \(rootJob)")
            // Alice's cookie through Bob's forwarder: refused.
            let bobCookie = "jobd_dashboard_\(bobDashboard.port)=\(secret)"
            #expect(
                try await LoopbackHTTP.request(port: bobDashboard.port, "/v1/jobs", cookie: bobCookie).status == 403)
            // Bob, holding Alice's cookie, cannot even connect through Alice's forwarder: it
            // takes connections from Alice's processes (and root's) only.
            let bobTries = try await run(
                URL(fileURLWithPath: AccessTests.setpriv),
                Array(setpriv(bob).dropFirst()) + [
                    "/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Cookie: \(cookie)",
                    "http://127.0.0.1:\(aliceDashboard.port)/v1/jobs",
                ])
            #expect(bobTries.stdout == "000", "\(bobTries)")
            // On jobd's own listener the connecting uid is checked too: Alice's cookie works
            // from Alice's (and root's) processes, not from Bob's.
            let listen = try await DashboardTests.listenPort(daemon)
            let listenCookie = "Cookie: jobd_dashboard_\(listen)=\(secret)"
            for (user, expected) in [(alice, "200"), (bob, "403")] {
                let answer = try await run(
                    URL(fileURLWithPath: AccessTests.setpriv),
                    Array(setpriv(user).dropFirst()) + [
                        "/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", listenCookie,
                        "http://127.0.0.1:\(listen)/v1/jobs",
                    ])
                #expect(answer.stdout == expected, "\(user.name): \(answer)")
            }
            #expect(
                try await LoopbackHTTP.request(port: listen, "/v1/jobs", cookie: String(listenCookie.dropFirst(8)))
                    .status == 200)
            try await aliceDashboard.end()
            try await bobDashboard.end()
        }
    }
}
