import Foundation
import JobdModel
import Testing

/// `jobctl top` as a person sees it: run in a tmux pane (80×24) against the real jobd
/// while a mixed workload runs, read back with `capture-pane`, driven with `send-keys`.
@Suite(.heavy) struct TopTests {
    static let tmuxPath = ["/usr/bin/tmux", "/bin/tmux"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// A tmux server of the test's own (`-L`), with one 80×24 pane running a plain shell.
    struct Pane {
        let tmux: URL
        let server = "jobd-top-\(UUID().uuidString.prefix(8))"

        /// Runs tmux through Python's `subprocess`, which closes every descriptor above 2:
        /// the tmux server that `new-session` forks would otherwise keep the one Foundation's
        /// `Process` watches for the exit, and the client would never be seen to end. The
        /// signal mask is emptied and SIGHUP set to its default first: the test runner's
        /// children inherit SIGHUP blocked, and a pane's shell that never gets SIGHUP
        /// outlives `kill-server`.
        func command(_ arguments: [String]) async throws -> String {
            let output = try await unchecked(arguments)
            try #require(output.status == 0, "tmux \(arguments): \(output)")
            return output.stdout
        }

        func unchecked(_ arguments: [String]) async throws -> ProcessOutput {
            try await run(
                URL(fileURLWithPath: "/usr/bin/python3"),
                [
                    "-c",
                    "import signal, subprocess, sys; signal.pthread_sigmask(signal.SIG_SETMASK, set()); "
                        + "signal.signal(signal.SIGHUP, signal.SIG_DFL); sys.exit(subprocess.run(sys.argv[1:]).returncode)",
                    tmux.path, "-L", server,
                ]
                    + arguments, timeout: .seconds(30))
        }

        /// The pane's visible lines, trailing blanks trimmed.
        func capture() async throws -> [String] {
            let text = try await command(["capture-pane", "-p", "-t", "top"])
            var lines = text.components(separatedBy: "\n").map { String($0.reversed().drop { $0 == " " }.reversed()) }
            while lines.last?.isEmpty == true { lines.removeLast() }
            return lines
        }

        func keys(_ keys: String...) async throws {
            _ = try await command(["send-keys", "-t", "top"] + keys)
        }

        /// Polls the pane (every 100 ms) until `condition` holds.
        func waitFor(_ what: String, _ condition: ([String]) -> Bool) async throws -> [String] {
            var screen: [String] = []
            try await waitUntil(what, deadline: .seconds(30)) {
                screen = try await capture()
                return condition(screen)
            }
            return screen
        }
    }

    /// The value after `label` in the counts line of a captured screen.
    static func count(_ label: String, in screen: [String]) -> Int? {
        guard let line = screen.first(where: { $0.hasPrefix("waiting ") }) else { return nil }
        let words = line.split(separator: " ")
        guard let index = words.firstIndex(of: Substring(label)), index + 1 < words.count else { return nil }
        return Int(words[index + 1])
    }

    @Test("under tmux: the counts move and match jobctl stats; p pauses; q leaves the terminal as it was")
    func topUnderTmux() async throws {
        let tmux = try #require(
            Self.tmuxPath.map(URL.init(fileURLWithPath:)), "tmux is not installed (apt-get install tmux)")
        try await withLocalHTTPServer { server in
            try await withTestDaemon(config: "workers: 4\n") { daemon in
                let pane = Pane(tmux: tmux)
                _ = try await pane.command([
                    "new-session", "-d", "-s", "top", "-x", "80", "-y", "24",
                    "env -i PATH=/usr/bin:/bin TERM=xterm-256color JOBD_SOCKET=\(daemon.socketPath) PS1='$ ' bash --norc --noprofile",
                ])
                // The tmux server is ended before the test returns, whatever happened.
                do {
                    try await Self.drive(pane, daemon: daemon, server: server)
                } catch {
                    _ = try? await pane.unchecked(["kill-server"])
                    throw error
                }
                let killed = try await pane.unchecked(["kill-server"])
                print("TopTests: kill-server \(killed)")
            }
        }
    }

    /// The scenario, in a pane whose shell runs.
    static func drive(_ pane: Pane, daemon: TestDaemon, server: LocalHTTPServer) async throws {
        do {
            try await pane.keys("clear; echo before jobctl top", "Enter")
            _ = try await pane.waitFor("the shell prints the marker") { $0.contains("before jobctl top") }
            try await pane.keys("\(Binaries.jobctl.path) top")
            let before = try await pane.waitFor("the command is typed") { $0.last?.hasSuffix(" top") == true }

            // A mixed workload: delays of 0-0.4 s, fetches, failures; 4 workers.
            var lines: [String] = []
            for index in 0..<300 {
                switch index % 3 {
                case 0: lines.append(#"{"kind":"delay","seconds":0.\#(index % 5),"value":\#(index)}"#)
                case 1: lines.append(#"{"kind":"fetch","url":"\#(server.base)/slow/\#(50 + index % 100)"}"#)
                default: lines.append(#"{"kind":"delay","seconds":0.1,"fail":"boom \#(index)"}"#)
                }
            }
            let submit = try await daemon.jobctl(
                ["submit", "--file", "-"], stdin: lines.joined(separator: "\n") + "\n")
            #expect(submit.status == 0, "\(submit)")
            try await pane.keys("Enter")

            // The counts move: two screens with different succeeded counts, while jobs run.
            let first = try await pane.waitFor("top shows jobs running") {
                ($0.first?.hasPrefix("jobd top") ?? false) && (Self.count("running", in: $0) ?? 0) > 0
            }
            let firstDone = try #require(Self.count("succeeded", in: first))
            let moved = try await pane.waitFor("the succeeded count moves") {
                (Self.count("succeeded", in: $0) ?? 0) > firstDone
            }
            print("TopTests: succeeded \(firstDone) -> \(Self.count("succeeded", in: moved) ?? -1)")
            #expect(first.count <= 24 && first.allSatisfy { $0.count <= 80 }, "\(first)")
            #expect(first.contains { $0.hasPrefix("throughput  ") })
            #expect(first.contains { $0.hasPrefix("── running ") })

            // p pauses: jobd says paused, and so does the screen.
            try await pane.keys("p")
            let paused = try await pane.waitFor("the screen says PAUSED") { $0.first?.contains("PAUSED") == true }
            #expect(try await daemon.jobctlJSON(StatsResponse.self, ["stats"]).paused, "\(paused)")

            // Once the running jobs drained, the screen's counts equal jobctl stats
            // within one refresh.
            try await waitUntil("the running jobs drained", deadline: .seconds(60)) {
                try await daemon.jobctlJSON(StatsResponse.self, ["stats"]).running == 0
            }
            let stats = try await daemon.jobctlJSON(StatsResponse.self, ["stats"])
            let settled = try await pane.waitFor("the screen shows jobctl stats' counts") { screen in
                Self.count("running", in: screen) == 0 && Self.count("succeeded", in: screen) == stats.succeeded
            }
            for (label, value) in [
                ("waiting", stats.waiting), ("queued", stats.queued), ("running", stats.running),
                ("succeeded", stats.succeeded), ("failed", stats.failed), ("cancelled", stats.cancelled),
            ] {
                #expect(Self.count(label, in: settled) == value, "\(label): \(settled)")
            }
            #expect(stats.queued > 0, "the pause left jobs queued")
            #expect(settled.contains { $0.contains("job_failed") }, "the latest failures: \(settled)")

            // q: back to the shell, the screen as it was plus the next prompt.
            try await pane.keys("q")
            let after = try await pane.waitFor("the shell is back") { $0.last == "$" }
            #expect(
                Array(after.dropLast()) == before,
                "before:\n\(before.joined(separator: "\n"))\nafter:\n\(after.joined(separator: "\n"))")
            #expect(!after.contains { $0.contains("jobd top") })
            let modes = try await pane.command(["display", "-p", "-t", "top", "#{alternate_on} #{cursor_flag}"])
            #expect(
                modes.trimmingCharacters(in: .whitespacesAndNewlines) == "0 1", "alternate screen off, cursor shown"
            )
            _ = try await daemon.jobctl(["resume"])
        }
    }

    @Test("not a terminal: top prints what jobctl stats prints")
    func notATerminal() async throws {
        try await withTestDaemon { daemon in
            let top = try await daemon.jobctl(["top"])
            let stats = try await daemon.jobctl(["stats"])
            #expect(top.status == 0, "\(top)")
            let withoutUptime = { (text: String) in text.split(separator: "\n").filter { !$0.hasPrefix("uptime") } }
            #expect(withoutUptime(top.stdout) == withoutUptime(stats.stdout), "\(top)\n\(stats)")
        }
    }
}
