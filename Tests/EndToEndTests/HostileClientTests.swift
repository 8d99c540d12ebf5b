import Foundation
import JobdModel
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Hostile clients against the real jobd (issue 6): a connection flood, slowloris, huge
/// headers, a 1 GiB body, a 100,000-job batch, malformed UTF-8 and JSON.
///
/// During each attack a separate client probes `GET /v1/health` on a fresh connection
/// every few milliseconds. Each test asserts that jobd survives, that every probe was
/// answered, and loose bounds on the probes' p99 and jobd's peak RSS (`VmHWM`): the
/// suites share two cores, so the bounds are 1 s and 1 GiB; the measured figures are
/// printed (`hostile: …`). `scripts/attack.py` runs the same attacks at full size against
/// a running jobd, for the record.
///
/// Sockets are plain blocking file descriptors on threads of their own (`onThread`):
/// nothing blocks the cooperative pool, and a probe's latency is jobd's, not a scheduler's.
@Suite(.serialized, .heavy) struct HostileClientTests {
    // MARK: - Attacks

    /// How many sockets one attack may hold open in this process. Foundation's
    /// `Process.run()` (6.3.1) copies each /proc/self/fd entry with a 256-byte over-read
    /// (swift-corelibs-foundation#5472, see scripts/sanitizers/asan.supp): once the
    /// listing passes glibc's 32 KiB directory buffer, a suite starting a process at that
    /// moment can crash the test runner (seen in CI with 10,000 sockets open here). 400
    /// keeps the listing far below that; `scripts/attack.py` runs the full 10,000 and
    /// 1,000 from a process of its own.
    static let maxOpenSockets = 400

    @Test("a connection flood: all held open, health answers during the flood and while they are held")
    func connectionFlood() async throws {
        let count = Self.maxOpenSockets
        raiseOwnFileLimit(to: count + 1000)
        // A head deadline longer than the test: the connections stay until closed here.
        try await withAttackedDaemon(environment: ["JOBD_SERVER_REQUEST_HEAD_TIMEOUT": "120"]) { daemon in
            let sockets = Shared<[Int32]>([])
            let opened = Counter()
            let flood = Task {
                try await onThread { () throws -> Void in
                    for _ in 0..<count {
                        let fd = try RawSocket.connect(daemon.socketPath)
                        sockets.withLock { $0.append(fd) }
                        opened.add()
                    }
                }
            }
            // Probes while the connections are being opened, then while all are held.
            let ramp = try await probeHealth(daemon, minimum: 50) { opened.value >= count }
            try await flood.value
            let held = try await probeHealth(daemon, minimum: 100)
            // Every connection is still open: nothing to read (no 503, no EOF).
            let fds = sockets.withLock { $0 }
            let stillOpen = fds.filter { RawSocket.isOpenAndSilent($0) }.count
            for fd in fds { close(fd) }
            #expect(stillOpen == count, "connections jobd closed or refused: \(count - stillOpen)")
            report("flood ramp (opening \(count))", ramp, daemon)
            report("flood held (\(count) open)", held, daemon)
            // While connects pour in, a probe waits behind those queued in the listen
            // backlog (1024): about backlog / accept rate. A debug build accepts slowly,
            // slower as connections grow (NIOExtras' quiescing helper copies its table of
            // open channels on each accept without optimisation), and the suites share
            // the cores: seconds here, under 100 ms in release (scripts/attack.py).
            ramp.expectHealthy(p99Below: 10_000)
            held.expectHealthy()
            try expectPeakRSS(daemon, below: 1024)
        }
    }

    @Test(
        "past server.max_connections a connection gets 503 too_many_connections; the operator's reserve still gets in")
    func connectionCap() async throws {
        // The tests run as root or as the daemon's user: both privileged, so they may use
        // the reserve of 64 past the cap; the 65th past it is refused. (Per-uid and
        // unprivileged refusals: ConnectionAdmissionTests.)
        let cap = 20
        try await withAttackedDaemon(environment: ["JOBD_SERVER_MAX_CONNECTIONS": "\(cap)"]) { daemon in
            var held: [Int32] = []
            defer { for fd in held { close(fd) } }
            for _ in 0..<(cap + 64) {
                let fd = try RawSocket.connect(daemon.socketPath)
                held.append(fd)
            }
            // The last admitted one answers: the reserve is usable.
            let last = try #require(held.last)
            #expect(RawSocket.send(last, Array("GET /v1/health HTTP/1.1\r\nHost: l\r\n\r\n".utf8)))
            let answer = try RawSocket.readResponse(last, timeout: .seconds(5))
            #expect(answer.status == 200)
            // One more: 503 at once, then closed.
            let refused = try RawSocket.connect(daemon.socketPath)
            defer { close(refused) }
            let reply = try RawSocket.readResponse(refused, timeout: .seconds(5))
            #expect(reply.status == 503)
            #expect(reply.errorCode == "too_many_connections", "\(reply.body)")
            #expect(RawSocket.closedByPeer(refused, within: .seconds(5)))
            // Closing one frees its slot for the next client.
            close(held.removeFirst())
            let deadline = ContinuousClock.now + .seconds(5)
            var status = 0
            while status != 200, ContinuousClock.now < deadline {
                let fd = try RawSocket.connect(daemon.socketPath)
                defer { close(fd) }
                _ = RawSocket.send(fd, Array("GET /v1/health HTTP/1.1\r\nHost: l\r\nConnection: close\r\n\r\n".utf8))
                status = (try? RawSocket.readResponse(fd, timeout: .seconds(5)).status) ?? 0
            }
            #expect(status == 200, "a freed slot is not reused")
            #expect(daemon.log().contains("connections refused: too many open"), "\(daemon.log())")
        }
    }

    @Test("slowloris connections trickling a head byte a second are closed at the head deadline")
    func slowloris() async throws {
        let count = Self.maxOpenSockets
        let headTimeout = 2.0
        raiseOwnFileLimit(to: count + 1000)
        try await withAttackedDaemon(environment: ["JOBD_SERVER_REQUEST_HEAD_TIMEOUT": "\(headTimeout)"]) { daemon in
            let done = Counter()
            let attack = Task { try await onThread { try Self.trickle(daemon.socketPath, count: count, done: done) } }
            let probes = try await probeHealth(daemon, minimum: 100) { done.value >= count }
            let lifetimes = try await attack.value
            report("slowloris (\(count) connections)", probes, daemon)
            print(
                "hostile: slowloris lifetimes min \(format(lifetimes.min() ?? 0)) s, "
                    + "max \(format(lifetimes.max() ?? 0)) s (deadline \(headTimeout) s)")
            #expect(lifetimes.count == count, "connections jobd did not close in time: \(count - lifetimes.count)")
            // Closed by the deadline: not before it, and not long after (a loaded machine).
            #expect((lifetimes.min() ?? 0) >= headTimeout - 0.1)
            #expect(
                (lifetimes.max() ?? .infinity) <= TimingBound.seconds(strict: headTimeout + 4, loose: headTimeout + 30))
            probes.expectHealthy()
            try expectPeakRSS(daemon, below: 1024)
        }
    }

    @Test("a 1 MiB header is answered 400 and the connection closed")
    func hugeHeaders() async throws {
        let request =
            Array("GET /v1/health HTTP/1.1\r\nHost: localhost\r\nX-Huge: ".utf8)
            + [UInt8](repeating: UInt8(ascii: "a"), count: 1 << 20) + Array("\r\n\r\n".utf8)
        try await repeatedAttack("huge headers (1 MiB)", minimumRequests: 20) { path in
            let fd = try RawSocket.connect(path)
            defer { close(fd) }
            // jobd may answer and close before the header is all sent: a failed send is fine.
            _ = RawSocket.send(fd, request)
            let reply = try RawSocket.readResponse(fd, timeout: .seconds(10))
            let closed = RawSocket.closedByPeer(fd, within: .seconds(5))
            return "\(reply.status)\(closed ? "+closed" : "+open")"
        } check: { outcomes in
            #expect(Set(outcomes.keys).isSubset(of: ["400+closed", "431+closed"]), "\(outcomes)")
        }
    }

    @Test("a declared 1 GiB body gets 413 at once with Connection: close, and jobd closes without reading it")
    func hugeBody() async throws {
        let head = Array(
            ("POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + "Content-Length: 1073741824\r\n\r\n").utf8)
        let firstBytes = Array("[".utf8) + [UInt8](repeating: UInt8(ascii: " "), count: 4095)
        let slowest = Shared<Duration>(.zero)
        try await repeatedAttack("1 GiB body", minimumRequests: 20) { path in
            let fd = try RawSocket.connect(path)
            defer { close(fd) }
            let start = ContinuousClock.now
            _ = RawSocket.send(fd, head)
            _ = RawSocket.send(fd, firstBytes)
            let reply = try RawSocket.readResponse(fd, timeout: .seconds(10))
            let elapsed = ContinuousClock.now - start
            slowest.withLock { $0 = max($0, elapsed) }
            // Closed although 1 GiB minus 4 KiB of the body never came.
            let closed = RawSocket.closedByPeer(fd, within: .seconds(5))
            let close = reply.headers["connection"] == "close" ? "+close" : ""
            return "\(reply.status)/\(reply.errorCode ?? "")\(close)\(closed ? "+closed" : "+open")"
        } check: { outcomes in
            #expect(Set(outcomes.keys) == ["413/payload_too_large+close+closed"], "\(outcomes)")
        }
        let worst = slowest.withLock { $0 }
        print("hostile: 1 GiB body: slowest 413 after \(format(worst.seconds * 1000)) ms")
        #expect(worst < .seconds(2))
    }

    @Test("a 100,000-job batch (2.9 MB, under the 16 MiB body cap) gets 413 batch_too_large")
    func hugeBatch() async throws {
        let spec = #"{"kind":"delay","seconds":0}"#
        let body = Array(("{\"jobs\":[" + Array(repeating: spec, count: 100_000).joined(separator: ",") + "]}").utf8)
        #expect(body.count < 16 * 1024 * 1024)
        let request =
            Array(
                ("POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n").utf8) + body
        try await repeatedAttack("100,000-job batch", threads: 2, minimumRequests: 4) { path in
            let fd = try RawSocket.connect(path)
            defer { close(fd) }
            _ = RawSocket.send(fd, request)
            let reply = try RawSocket.readResponse(fd, timeout: .seconds(30))
            return "\(reply.status)/\(reply.errorCode ?? "")"
        } check: { outcomes in
            #expect(Set(outcomes.keys) == ["413/batch_too_large"], "\(outcomes)")
        }
    }

    @Test("malformed UTF-8 in a JSON string and malformed JSON get 400 invalid_json")
    func malformedBodies() async throws {
        let bodies: [[UInt8]] = [
            // Invalid UTF-8 inside strings: a lone continuation byte, an overlong "/",
            // a truncated sequence.
            Array(#"{"kind":"delay","seconds":1,"key":"bad "#.utf8) + [0xFF, 0xFE, 0xC3, 0x28] + Array(#""}"#.utf8),
            Array(#"{"kind":"fetch","url":"http://example.com/"#.utf8) + [0xC0, 0xAF] + Array(#""}"#.utf8),
            Array(#"{"kind":"delay","seconds":1,"key":"cut "#.utf8) + [0xE2, 0x82] + Array(#""}"#.utf8),
            // Malformed JSON.
            Array(#"{"kind":"delay","seconds":1,"#.utf8),
            Array(#"{"kind":"delay","seconds":1}}}"#.utf8),
            Array(#"{"jobs":[{"kind":"delay","seconds":1}"#.utf8),
            [0x00, 0x01, 0x02] + Array(" not json".utf8),
            Array("\"\\ud800".utf8),
        ]
        let next = Counter()
        try await repeatedAttack("malformed UTF-8 and JSON", minimumRequests: 2 * bodies.count) { path in
            let body = bodies[next.add() % bodies.count]
            let fd = try RawSocket.connect(path)
            defer { close(fd) }
            let head =
                "POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
            _ = RawSocket.send(fd, Array(head.utf8) + body)
            let reply = try RawSocket.readResponse(fd, timeout: .seconds(10))
            return "\(reply.status)/\(reply.errorCode ?? "")"
        } check: { outcomes in
            #expect(Set(outcomes.keys) == ["400/invalid_json"], "\(outcomes)")
        }
    }

    // MARK: - What the limits must not cut

    @Test(
        "a long-poll wait and the events stream outlive the idle timeout and the head deadline; an idle connection does not"
    )
    func longRequestsSurviveTimeouts() async throws {
        try await withAttackedDaemon(
            environment: ["JOBD_SERVER_IDLE_TIMEOUT": "0.5", "JOBD_SERVER_REQUEST_HEAD_TIMEOUT": "0.5"]
        ) { daemon in
            let path = daemon.socketPath
            // A job that stays queued/running for the whole test.
            let submit = try rawHTTP(
                socketPath: path,
                "POST /v1/jobs HTTP/1.1\r\nHost: l\r\nContent-Length: 29\r\nConnection: close\r\n\r\n"
                    + #"{"kind":"delay","seconds":60}"#)
            let id = try #require(
                submit.split(separator: "\r\n\r\n").last.flatMap {
                    try? JSONCoding.makeDecoder().decode(JobRecord.self, from: Data($0.utf8)).id
                })
            // The events stream: open it, then let three idle timeouts pass.
            let events = try RawSocket.connect(path)
            defer { close(events) }
            #expect(RawSocket.send(events, Array("GET /v1/events HTTP/1.1\r\nHost: l\r\n\r\n".utf8)))
            let opening = try RawSocket.readUntil(events, contains: ": jobd events", timeout: .seconds(5))
            #expect(opening.hasPrefix("HTTP/1.1 200"), "\(opening)")
            // A long-poll wait of 1.5 s (three idle timeouts) answers 200 with the record.
            let start = ContinuousClock.now
            let waited = try await onThread {
                try rawHTTP(
                    socketPath: path,
                    "GET /v1/jobs/\(id)/wait?timeout=1.5 HTTP/1.1\r\nHost: l\r\nConnection: close\r\n\r\n")
            }
            #expect(waited.hasPrefix("HTTP/1.1 200"), "\(waited)")
            #expect(ContinuousClock.now - start >= .seconds(1.4))
            // The stream is still open: an event published now arrives on it.
            _ = try rawHTTP(
                socketPath: path, "POST /v1/jobs/\(id)/cancel HTTP/1.1\r\nHost: l\r\nConnection: close\r\n\r\n")
            let event = try RawSocket.readUntil(events, contains: "event: cancelled", timeout: .seconds(5))
            #expect(event.contains("event: cancelled"), "\(event)")
            // A kept-alive connection left idle after its response is closed by the idle timeout.
            let idle = try RawSocket.connect(path)
            defer { close(idle) }
            #expect(RawSocket.send(idle, Array("GET /v1/health HTTP/1.1\r\nHost: l\r\n\r\n".utf8)))
            #expect(try RawSocket.readResponse(idle, timeout: .seconds(5)).status == 200)
            let idleStart = ContinuousClock.now
            #expect(RawSocket.closedByPeer(idle, within: .seconds(5)))
            let idleFor = ContinuousClock.now - idleStart
            #expect(idleFor >= .seconds(0.4), "closed after \(idleFor), before the idle timeout")
        }
    }

    // MARK: - Running an attack

    /// Starts jobd with `environment`, runs `body`, checks it is alive, then stops it
    /// (exit 0 expected).
    func withAttackedDaemon(
        environment: [String: String] = [:], _ body: (TestDaemon) async throws -> Void
    ) async throws {
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try await daemon.start([], environment: environment)
        do {
            try await body(daemon)
        } catch {
            Issue.record("daemon log:\n\(daemon.log())")
            throw error
        }
        #expect(daemon.process?.isRunning == true, "jobd died; log:\n\(daemon.log())")
        let status = try await daemon.stop()
        #expect(status == 0, "jobd exit status after SIGTERM; log:\n\(daemon.log())")
    }

    /// Runs `one` over and over on `threads` threads while health is probed, until there
    /// were at least `minimumRequests` and 100 probes; `check` gets the outcomes counted.
    func repeatedAttack(
        _ name: String, threads: Int = 4, minimumRequests: Int,
        _ one: @escaping @Sendable (String) throws -> String,
        check: ([String: Int]) -> Void
    ) async throws {
        try await withAttackedDaemon { daemon in
            let stop = Flag()
            let outcomes = Shared<[String: Int]>([:])
            let requests = Counter()
            let path = daemon.socketPath
            let attackers = (0..<threads).map { _ in
                Task {
                    try await onThread { () throws -> Void in
                        while !stop.isSet {
                            let outcome: String
                            do {
                                outcome = try one(path)
                            } catch {
                                outcome = "error: \(error)"
                            }
                            outcomes.withLock { $0[outcome, default: 0] += 1 }
                            requests.add()
                        }
                    }
                }
            }
            let probes = try await probeHealth(daemon, minimum: 100) { requests.value >= minimumRequests }
            stop.set()
            for attacker in attackers { try await attacker.value }
            let counted = outcomes.withLock { $0 }
            report("\(name) (\(requests.value) requests)", probes, daemon)
            check(counted)
            probes.expectHealthy()
            try expectPeakRSS(daemon, below: 1024)
        }
    }

    /// Probes `GET /v1/health` on a fresh connection every 5 ms, at least `minimum`
    /// times and until `done` holds (checked after each probe).
    func probeHealth(
        _ daemon: TestDaemon, minimum: Int, until done: @escaping @Sendable () -> Bool = { true }
    ) async throws -> Probes {
        let path = daemon.socketPath
        let deadline = ContinuousClock.now + .seconds(60)
        return try await onThread {
            var probes = Probes()
            while probes.count < minimum || !done() {
                let start = ContinuousClock.now
                do {
                    let fd = try RawSocket.connect(path)
                    defer { close(fd) }
                    guard
                        RawSocket.send(
                            fd, Array("GET /v1/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8))
                    else { throw POSIXError(.EPIPE) }
                    // connect returns once queued; the answer comes when jobd accepts.
                    let reply = try RawSocket.readResponse(fd, timeout: .seconds(20))
                    guard reply.status == 200, reply.body.contains("\"status\"") else {
                        throw ProbeFailed(message: "health answered \(reply.status): \(reply.body)")
                    }
                    probes.latencies.append(ContinuousClock.now - start)
                } catch {
                    probes.failures.append("\(error)")
                }
                if ContinuousClock.now > deadline {
                    probes.failures.append("the attack did not finish within 60 s")
                    break
                }
                usleep(5000)
            }
            return probes
        }
    }

    /// Opens `count` connections, each sending half a request head, then one more byte
    /// of it every second; returns how long each lived until jobd closed it (those it
    /// did not close within 15 s are missing).
    static func trickle(_ path: String, count: Int, done: Counter) throws -> [Double] {
        var open: [(fd: Int32, since: ContinuousClock.Instant)] = []
        for _ in 0..<count {
            let fd = try RawSocket.connect(path)
            let since = ContinuousClock.now
            _ = RawSocket.send(fd, Array("GET /v1/health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ".utf8))
            open.append((fd, since))
        }
        var lifetimes: [Double] = []
        var nextByte = ContinuousClock.now + .seconds(1)
        let giveUp = ContinuousClock.now + .seconds(15)
        while !open.isEmpty, ContinuousClock.now < giveUp {
            var pollers = open.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            let wait = max(0, min(200, Int32((nextByte - ContinuousClock.now).seconds * 1000)))
            _ = poll(&pollers, nfds_t(pollers.count), wait)
            var still: [(fd: Int32, since: ContinuousClock.Instant)] = []
            for (index, connection) in open.enumerated() {
                if pollers[index].revents != 0, RawSocket.closedByPeer(connection.fd, within: .zero) {
                    lifetimes.append((ContinuousClock.now - connection.since).seconds)
                    close(connection.fd)
                    done.add()
                } else {
                    still.append(connection)
                }
            }
            open = still
            if ContinuousClock.now >= nextByte {
                for connection in open { _ = RawSocket.send(connection.fd, Array("a".utf8)) }
                nextByte += .seconds(1)
            }
        }
        for connection in open { close(connection.fd) }
        done.add(count)  // let the prober stop, whatever happened
        return lifetimes
    }

    // MARK: - Figures

    /// Health probe latencies and failures.
    struct Probes: Sendable {
        var latencies: [Duration] = []
        var failures: [String] = []

        var count: Int { latencies.count + failures.count }

        func percentile(_ fraction: Double) -> Double {
            let sorted = latencies.map { $0.seconds * 1000 }.sorted()
            guard !sorted.isEmpty else { return .nan }
            let rank = Int((fraction * Double(sorted.count)).rounded(.up)) - 1
            return sorted[min(sorted.count - 1, max(0, rank))]
        }

        /// Every probe answered, p99 under a second (the machine is shared).
        func expectHealthy(p99Below milliseconds: Double = 1000, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(failures.isEmpty, "health probes failed: \(failures.prefix(5))", sourceLocation: sourceLocation)
            #expect(
                percentile(0.99) < milliseconds, "health p99 \(percentile(0.99)) ms", sourceLocation: sourceLocation)
        }
    }

    func report(_ attack: String, _ probes: Probes, _ daemon: TestDaemon) {
        let rss = (try? peakRSS(daemon)).map { format(Double($0) / 1024) } ?? "?"
        print(
            "hostile: \(attack): probes \(probes.count), health p50 \(format(probes.percentile(0.5))) ms, "
                + "p99 \(format(probes.percentile(0.99))) ms, max \(format(probes.percentile(1))) ms, "
                + "jobd peak RSS \(rss) MiB")
    }

    /// jobd's peak resident set (`VmHWM`), in KiB.
    func peakRSS(_ daemon: TestDaemon) throws -> Int {
        let pid = try #require(daemon.process?.processIdentifier)
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") })
        return try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
    }

    func expectPeakRSS(_ daemon: TestDaemon, below mebibytes: Int) throws {
        let peak = try peakRSS(daemon)
        #expect(peak < mebibytes * 1024, "jobd peak RSS \(peak / 1024) MiB")
    }

    struct ProbeFailed: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}

// MARK: - Helpers

private func format(_ value: Double) -> String { String(format: "%.1f", value) }

extension Duration {
    fileprivate var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

/// Raises this process's soft open-file limit (the flood holds thousands of sockets).
private func raiseOwnFileLimit(to wanted: Int) {
    var limit = rlimit()
    getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
    if limit.rlim_cur < rlim_t(wanted) {
        limit.rlim_cur = min(limit.rlim_max, rlim_t(wanted))
        setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
    }
}

/// Runs `body` on a new thread: blocking socket calls stay off the cooperative pool.
private func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.start()
    }
}

extension HostileClientTests {
    /// A counter shared between threads.
    final class Counter: Sendable {
        private let count = Atomic<Int>(0)
        var value: Int { count.load(ordering: .relaxed) }
        /// Adds `amount`; returns the value before.
        @discardableResult func add(_ amount: Int = 1) -> Int {
            count.wrappingAdd(amount, ordering: .relaxed).oldValue
        }
    }

    /// A flag shared between threads.
    final class Flag: Sendable {
        private let flag = Atomic<Bool>(false)
        var isSet: Bool { flag.load(ordering: .relaxed) }
        func set() { flag.store(true, ordering: .relaxed) }
    }

    /// A value shared between threads, behind a lock.
    final class Shared<Value: Sendable>: Sendable {
        private let value: Mutex<Value>
        init(_ value: Value) { self.value = Mutex(value) }
        func withLock<T>(_ body: (inout Value) -> T) -> T { value.withLock { body(&$0) } }
    }

    /// Blocking Unix-socket I/O with deadlines, for attackers and probes.
    enum RawSocket {
        struct Reply: Sendable {
            var status: Int
            var headers: [String: String]
            var body: String

            /// The `error.code` of an API error body.
            var errorCode: String? {
                guard let data = body.data(using: .utf8),
                    let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                    let error = object["error"] as? [String: Any]
                else { return nil }
                return error["code"] as? String
            }
        }

        struct Failed: Error, CustomStringConvertible {
            var description: String
        }

        /// A blocking connect: it waits while jobd's listen backlog is full.
        static func connect(_ path: String) throws -> Int32 {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw Failed(description: "socket: errno \(errno)") }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { buffer in
                buffer.copyBytes(from: path.utf8.prefix(buffer.count - 1))
            }
            let result = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            guard result == 0 else {
                let error = errno
                close(fd)
                throw Failed(description: "connect: errno \(error)")
            }
            return fd
        }

        /// Sends all of `bytes`; false when jobd closed the connection first (no SIGPIPE).
        static func send(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
            var offset = 0
            while offset < bytes.count {
                let sent = bytes.withUnsafeBytes { buffer in
                    Glibc.send(fd, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                }
                if sent < 0, errno == EINTR { continue }
                guard sent > 0 else { return false }
                offset += sent
            }
            return true
        }

        /// Reads what arrives within `timeout`; nil at EOF or reset, [] when nothing came.
        private static func read(_ fd: Int32, until deadline: ContinuousClock.Instant) -> [UInt8]? {
            let left = max(0, Int32(((deadline - ContinuousClock.now).seconds * 1000).rounded(.up)))
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, left) > 0 else { return [] }
            var buffer = [UInt8](repeating: 0, count: 65536)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count < 0, errno == EAGAIN || errno == EINTR { return [] }
            guard count > 0 else { return nil }
            return Array(buffer[0..<count])
        }

        /// One response, read by its `Content-Length`.
        static func readResponse(_ fd: Int32, timeout: Duration) throws -> Reply {
            let deadline = ContinuousClock.now + timeout
            var data: [UInt8] = []
            let separator = Array("\r\n\r\n".utf8)
            var headEnd: Int?
            while headEnd == nil {
                guard ContinuousClock.now < deadline else {
                    throw Failed(description: "no response head in \(timeout)")
                }
                guard let chunk = read(fd, until: deadline) else {
                    throw Failed(description: "closed before a response head: \(String(decoding: data, as: UTF8.self))")
                }
                data += chunk
                if data.count >= 4 {
                    headEnd = (0...(data.count - 4)).first { Array(data[$0..<($0 + 4)]) == separator }
                }
            }
            let head = String(decoding: data[..<headEnd!], as: UTF8.self).components(separatedBy: "\r\n")
            let status = Int(head[0].split(separator: " ")[1]) ?? 0
            var headers: [String: String] = [:]
            for line in head.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                    in: .whitespaces)
            }
            let length = Int(headers["content-length"] ?? "0") ?? 0
            var body = Array(data[(headEnd! + 4)...])
            while body.count < length, ContinuousClock.now < deadline, let chunk = read(fd, until: deadline) {
                body += chunk
            }
            return Reply(status: status, headers: headers, body: String(decoding: body.prefix(length), as: UTF8.self))
        }

        /// Reads until the text received contains `marker` (or the deadline passes).
        static func readUntil(_ fd: Int32, contains marker: String, timeout: Duration) throws -> String {
            let deadline = ContinuousClock.now + timeout
            var data: [UInt8] = []
            while ContinuousClock.now < deadline {
                guard let chunk = read(fd, until: deadline) else { break }
                data += chunk
                if String(decoding: data, as: UTF8.self).contains(marker) { break }
            }
            return String(decoding: data, as: UTF8.self)
        }

        /// True when jobd closes the connection (EOF or reset) within `within`; what it still
        /// sends is read and dropped.
        static func closedByPeer(_ fd: Int32, within: Duration) -> Bool {
            let deadline = ContinuousClock.now + within
            repeat {
                guard let chunk = read(fd, until: deadline) else { return true }
                if chunk.isEmpty, ContinuousClock.now >= deadline { return false }
            } while true
        }

        /// True when the connection is open and jobd sent nothing on it.
        static func isOpenAndSilent(_ fd: Int32) -> Bool {
            var byte: UInt8 = 0
            let count = recv(fd, &byte, 1, Int32(MSG_DONTWAIT))
            return count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
        }
    }
}
