import Foundation
import JobdModel
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// True when the tests can create users and run programs as them.
private func canSwitchUsers() -> Bool {
    geteuid() == 0
        && ["/usr/bin/setpriv", "/usr/sbin/useradd", "/usr/sbin/groupadd", "/usr/sbin/usermod"].allSatisfy {
            FileManager.default.isExecutableFile(atPath: $0)
        }
}

/// Access control with real users: the real jobd, and the real jobctl run as other users
/// through `setpriv`, so the daemon reads their credentials from the socket.
///
/// The tests create their users and groups when missing (`useradd`, `groupadd`), so they
/// need root; without it they are skipped.
@Suite(
    .serialized,
    .enabled(
        if: canSwitchUsers(),
        "needs root and setpriv/useradd/groupadd/usermod to create users and run jobctl as them"))
struct AccessTests {
    /// Submits jobs and is the owner in most tests.
    static let userA = "jobd-test-alice"
    /// Tries to reach user A's jobs.
    static let userB = "jobd-test-bob"
    /// A member (supplementary, not primary) of `adminGroup`.
    static let userC = "jobd-test-carol"
    static let adminGroup = "jobd-test-admins"

    static let setpriv = "/usr/bin/setpriv"

    /// A user of this machine, as the tests know it.
    struct User {
        var name: String
        var uid: UInt32
        var gid: UInt32
    }

    /// The user `name`, created (with a group of its own name) if missing.
    static func ensureUser(_ name: String) async throws -> User {
        if let user = lookUpUser(name) { return user }
        let output = try await run(
            URL(fileURLWithPath: "/usr/sbin/useradd"),
            ["--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", name])
        // Exit 9: another test process created it meanwhile.
        guard let user = lookUpUser(name) else {
            throw SetupFailed(message: "useradd \(name) failed: \(output)")
        }
        return user
    }

    /// The group `name`, created if missing, with `members` added to it (supplementary).
    static func ensureGroup(_ name: String, members: [String]) async throws -> UInt32 {
        if lookUpGroup(name) == nil {
            _ = try await run(URL(fileURLWithPath: "/usr/sbin/groupadd"), ["--system", name])
        }
        guard let gid = lookUpGroup(name) else { throw SetupFailed(message: "groupadd \(name) failed") }
        for member in members {
            let output = try await run(
                URL(fileURLWithPath: "/usr/sbin/usermod"), ["--append", "--groups", name, member])
            guard output.status == 0 else { throw SetupFailed(message: "usermod \(member): \(output)") }
        }
        return gid
    }

    static func lookUpUser(_ name: String) -> User? {
        guard let entry = getpwnam(name) else { return nil }
        return User(name: name, uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid)
    }

    static func lookUpGroup(_ name: String) -> UInt32? {
        getgrnam(name)?.pointee.gr_gid
    }

    struct SetupFailed: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// A copy of `built` that other users may run: the built file itself when it and every
    /// directory above it let others through, else a copy (mode 0755) in `directory`.
    static func forEveryone(_ built: URL, in directory: URL) throws -> String {
        let built = built.resolvingSymlinksInPath()
        var reachable = Self.mode(of: built.path).map { $0 & 0o005 == 0o005 } ?? false
        var parent = built.deletingLastPathComponent()
        while reachable, parent.path != "/" {
            reachable = Self.mode(of: parent.path).map { $0 & 0o001 == 0o001 } ?? false
            parent.deleteLastPathComponent()
        }
        if reachable { return built.path }
        let copy = directory.appendingPathComponent(built.lastPathComponent)
        if !FileManager.default.fileExists(atPath: copy.path) {
            try FileManager.default.copyItem(at: built, to: copy)
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: copy.path)
        return copy.path
    }

    static func mode(of path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int
    }

    /// A daemon whose socket other users can reach: its directory 0755, its config `yaml`.
    static func withSharedDaemon(
        config yaml: String, _ body: (TestDaemon, _ jobctl: String) async throws -> Void
    ) async throws {
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: daemon.directory.path)
        // TestDaemon.start keeps a config that is already there.
        try Data(yaml.utf8).write(to: daemon.directory.appendingPathComponent("jobd.yaml"))
        try await daemon.start()
        do {
            try await body(daemon, try forEveryone(Binaries.jobctl, in: daemon.directory))
        } catch {
            Issue.record("daemon log:\n\(daemon.log())")
            throw error
        }
        let status = try await daemon.stop()
        #expect(status == 0, "jobd exit status after SIGTERM; log:\n\(daemon.log())")
    }

    /// Runs jobctl as `user` (its own uid and primary gid, no supplementary groups unless
    /// `initGroups`) against the daemon on `socket`.
    static func jobctl(
        _ jobctl: String, as user: User, _ arguments: [String], socket: String, initGroups: Bool = false
    ) async throws -> ProcessOutput {
        try await run(
            URL(fileURLWithPath: setpriv),
            ["--reuid", "\(user.uid)", "--regid", "\(user.gid)", initGroups ? "--init-groups" : "--clear-groups", "--"]
                + [jobctl] + arguments,
            environment: ["JOBD_SOCKET": socket, "HOME": "/"])
    }

    @Test("user B cannot see, wait on, cancel or list user A's job (404 job_not_found); A and root can")
    func usersSeeTheirOwnJobs() async throws {
        let alice = try await Self.ensureUser(Self.userA)
        let bob = try await Self.ensureUser(Self.userB)
        try await Self.withSharedDaemon(config: "socket:\n  mode: \"0666\"\n") { daemon, jobctl in
            let submit = try await Self.jobctl(jobctl, as: alice, ["submit", "delay", "60"], socket: daemon.socketPath)
            #expect(submit.status == 0, "\(submit)")
            let id = submit.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            try #require(JobID(id) != nil, "\(submit)")

            // The job records Alice's uid (root sees everything).
            let record = try await daemon.jobctlJSON(JobRecord.self, ["status", id])
            #expect(record.submitterUID == alice.uid)

            let status = try await Self.jobctl(jobctl, as: bob, ["status", id], socket: daemon.socketPath)
            #expect(status.status == 1, "\(status)")
            #expect(status.stderr.contains("[job_not_found]"), "\(status)")
            let wait = try await Self.jobctl(
                jobctl, as: bob, ["wait", id, "--timeout", "0"], socket: daemon.socketPath)
            #expect(wait.status == 1, "\(wait)")
            #expect(wait.stderr.contains("[job_not_found]"), "\(wait)")
            let cancel = try await Self.jobctl(jobctl, as: bob, ["cancel", id], socket: daemon.socketPath)
            #expect(cancel.status != 0, "\(cancel)")
            #expect(cancel.stderr.contains("[job_not_found]"), "\(cancel)")
            let bobsList = try await Self.jobctl(jobctl, as: bob, ["list", "--json"], socket: daemon.socketPath)
            #expect(bobsList.status == 0, "\(bobsList)")
            let bobsJobs = try JSONCodingForTests.decoder.decode(JobListResponse.self, from: Data(bobsList.stdout.utf8))
            #expect(bobsJobs.jobs.isEmpty)
            let pause = try await Self.jobctl(jobctl, as: bob, ["pause"], socket: daemon.socketPath)
            #expect(pause.status == 1, "\(pause)")
            #expect(pause.stderr.contains("[forbidden]"), "\(pause)")

            // Bob's cancel did nothing; Alice sees and lists her job; root sees it too.
            let running = try await daemon.jobctlJSON(JobRecord.self, ["status", id])
            #expect(running.state == .running)
            let alicesList = try await Self.jobctl(jobctl, as: alice, ["list", "--json"], socket: daemon.socketPath)
            let alicesJobs = try JSONCodingForTests.decoder.decode(
                JobListResponse.self, from: Data(alicesList.stdout.utf8))
            #expect(alicesJobs.jobs.map(\.id.description) == [id])
            let rootStatus = try await daemon.jobctl(["status", id])
            #expect(rootStatus.status == 0, "\(rootStatus)")

            // Alice cancels her own job (which also lets the daemon stop at once).
            let own = try await Self.jobctl(jobctl, as: alice, ["cancel", id], socket: daemon.socketPath)
            #expect(own.status == 0, "\(own)")
        }
    }

    @Test("a uid outside access.allowed_uids gets 403 forbidden; the listed uid and root get in")
    func allowedUIDs() async throws {
        let alice = try await Self.ensureUser(Self.userA)
        let bob = try await Self.ensureUser(Self.userB)
        let config = """
            socket:
              mode: "0666"
            access:
              allowed_uids: [\(alice.uid)]
            """
        try await Self.withSharedDaemon(config: config + "\n") { daemon, jobctl in
            for arguments in [["health"], ["list"], ["submit", "delay", "0"]] {
                let refused = try await Self.jobctl(jobctl, as: bob, arguments, socket: daemon.socketPath)
                #expect(refused.status == 1, "\(arguments): \(refused)")
                #expect(refused.stderr.contains("[forbidden]"), "\(arguments): \(refused)")
                #expect(refused.stderr.contains("uid \(bob.uid)"), "\(arguments): \(refused)")
            }
            // Each refusal is logged (before the 403 goes out) with its request's own id.
            let refusals = daemon.log().split(separator: "\n").filter { $0.contains("request refused") }
            let requestIDs = Set(
                refusals.compactMap { $0.split(separator: " ").first { $0.hasPrefix("hb.request.id=") } })
            #expect(refusals.count == 3 && requestIDs.count == 3, "\(daemon.log())")
            let allowed = try await Self.jobctl(jobctl, as: alice, ["health"], socket: daemon.socketPath)
            #expect(allowed.status == 0, "\(allowed)")
            let root = try await daemon.jobctl(["health"])
            #expect(root.status == 0, "\(root)")
            // Bob's refused submit stored nothing.
            let jobs = try await daemon.jobctlJSON(JobListResponse.self, ["list"])
            #expect(jobs.jobs.isEmpty)
        }
    }

    @Test("a supplementary member of access.admin_group sees and cancels other users' jobs")
    func adminGroupMember() async throws {
        let alice = try await Self.ensureUser(Self.userA)
        let carol = try await Self.ensureUser(Self.userC)
        _ = try await Self.ensureGroup(Self.adminGroup, members: [carol.name])
        let config = """
            socket:
              mode: "0666"
            access:
              admin_group: \(Self.adminGroup)
            """
        try await Self.withSharedDaemon(config: config + "\n") { daemon, jobctl in
            let submit = try await Self.jobctl(jobctl, as: alice, ["submit", "delay", "60"], socket: daemon.socketPath)
            let id = submit.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            try #require(JobID(id) != nil, "\(submit)")
            // Carol runs with no supplementary groups and her own primary gid: the daemon
            // finds her membership in the group database.
            let status = try await Self.jobctl(jobctl, as: carol, ["status", id], socket: daemon.socketPath)
            #expect(status.status == 0, "\(status)")
            let cancel = try await Self.jobctl(jobctl, as: carol, ["cancel", id], socket: daemon.socketPath)
            #expect(cancel.status == 0, "\(cancel)")
            let pause = try await Self.jobctl(jobctl, as: carol, ["pause"], socket: daemon.socketPath)
            #expect(pause.status == 0, "\(pause)")
            // Alice is no admin.
            let alicePause = try await Self.jobctl(jobctl, as: alice, ["resume"], socket: daemon.socketPath)
            #expect(alicePause.stderr.contains("[forbidden]"), "\(alicePause)")
        }
    }

    @Test(
        "socket.group gives the socket its group: members connect through mode 0660; others get exit 77 naming the group to join"
    )
    func socketGroup() async throws {
        let alice = try await Self.ensureUser(Self.userA)
        let bob = try await Self.ensureUser(Self.userB)
        let config = """
            socket:
              mode: "0660"
              group: \(Self.userA)
            """
        try await Self.withSharedDaemon(config: config + "\n") { daemon, jobctl in
            let attributes = try FileManager.default.attributesOfItem(atPath: daemon.socketPath)
            #expect((attributes[.groupOwnerAccountID] as? NSNumber)?.uint32Value == alice.gid)
            #expect((attributes[.posixPermissions] as? Int) == 0o660)
            let member = try await Self.jobctl(
                jobctl, as: alice, ["health"], socket: daemon.socketPath, initGroups: true)
            #expect(member.status == 0, "\(member)")
            let other = try await Self.jobctl(jobctl, as: bob, ["health"], socket: daemon.socketPath, initGroups: true)
            #expect(other.status == 77, "\(other)")
            #expect(other.stderr.contains("[permission_denied]"), "\(other)")
            // Not "is it running? start it": the socket's group, and how to join it.
            #expect(other.stderr.contains("only members of its group '\(Self.userA)' may use it"), "\(other)")
            #expect(other.stderr.contains("sudo usermod -aG \(Self.userA) $USER) and log in again"), "\(other)")
            #expect(!other.stderr.contains("is it running"), "\(other)")
        }
    }

    @Test("a socket group the daemon may not give is logged as a warning naming it, and jobd serves on")
    func socketGroupRefused() async throws {
        let alice = try await Self.ensureUser(Self.userA)
        let adminGID = try await Self.ensureGroup(Self.adminGroup, members: [])
        // jobd runs as Alice, who is no member of the admin group: chown fails with EPERM.
        let directory = URL(fileURLWithPath: "/tmp").appendingPathComponent("jd-" + UUID().uuidString.prefix(8))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o755, .ownerAccountID: alice.uid, .groupOwnerAccountID: alice.gid],
            ofItemAtPath: directory.path)
        let socketPath = directory.appendingPathComponent("s.sock").path
        let configPath = directory.appendingPathComponent("jobd.yaml").path
        try Data("socket:\n  group: \(Self.adminGroup)\n".utf8).write(to: URL(fileURLWithPath: configPath))
        let logPath = directory.appendingPathComponent("jobd.log").path
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.setpriv)
        process.arguments = [
            "--reuid", "\(alice.uid)", "--regid", "\(alice.gid)", "--clear-groups", "--",
            try Self.forEveryone(Binaries.jobd, in: directory), "--socket", socketPath,
            "--database", directory.appendingPathComponent("db/jobs.sqlite").path,
        ]
        process.environment = ProcessInfo.processInfo.environment.merging(["JOBD_CONFIG": configPath, "HOME": "/"]) {
            _, new in new
        }
        let logHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = logHandle
        process.standardError = logHandle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        let deadline = ContinuousClock.now + .seconds(15)
        while !socketAnswers(socketPath) {
            try #require(process.isRunning, "jobd exited early:\n\(log())")
            try #require(ContinuousClock.now < deadline, "jobd did not serve within 15 s:\n\(log())")
            try await Task.sleep(for: .milliseconds(10))
        }
        // The warning is written before READY; give the log a moment to show it.
        while !log().contains("jobd ready"), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        let text = log()
        #expect(text.contains("cannot give the socket its group"), "\(text)")
        #expect(text.contains("socket.group=\(Self.adminGroup)"), "\(text)")
        #expect(text.contains("level=warning"), "\(text)")
        let attributes = try FileManager.default.attributesOfItem(atPath: socketPath)
        #expect((attributes[.groupOwnerAccountID] as? NSNumber)?.uint32Value != adminGID)
        let health = try await Self.jobctl(
            try Self.forEveryone(Binaries.jobctl, in: directory), as: alice, ["health"], socket: socketPath)
        #expect(health.status == 0, "\(health)")

        kill(process.processIdentifier, SIGTERM)
        let status = try await runToEnd(process, timeout: .seconds(30))
        #expect(status == 0, "\(log())")
    }

}
