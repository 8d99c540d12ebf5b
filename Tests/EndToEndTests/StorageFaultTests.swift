import Foundation
import JobdModel
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Storage faults against the real jobd (issue 6): a full disk, a read-only database or
/// file system, a database locked by another process, a second daemon, a corrupt file.
/// Each test records the error code (API code and HTTP status, or exit code) the fault
/// produces, and checks that nothing acknowledged is lost and that jobd does not crash.
///
/// Serialized: the lock test measures the busy timeout, and the faults are easier to
/// read one at a time. The tests that mount file systems or set immutable flags need
/// root; the lock test needs python3. Without them they are skipped with the reason.
@Suite(.serialized, .heavy) struct StorageFaultTests {
    /// The configuration file `TestDaemon.start` writes, for runs of jobd outside it.
    static func configPath(_ daemon: TestDaemon) -> String {
        daemon.directory.appendingPathComponent("jobd.yaml").path
    }

    /// Runs jobd on `daemon`'s database (another socket unless given) to its exit.
    static func runJobd(_ daemon: TestDaemon, socket: String? = nil) async throws -> (ProcessOutput, Duration) {
        let config = configPath(daemon)
        if !FileManager.default.fileExists(atPath: config) {
            _ = FileManager.default.createFile(atPath: config, contents: Data("# test: all defaults\n".utf8))
        }
        let started = ContinuousClock.now
        let output = try await run(
            Binaries.jobd, ["--socket", socket ?? daemon.socketPath, "--database", daemon.databasePath],
            environment: ["JOBD_CONFIG": config], timeout: .seconds(30))
        return (output, ContinuousClock.now - started)
    }

    static func seconds(_ duration: Duration) -> String {
        let components = duration.components
        return String(format: "%.2f s", Double(components.seconds) + Double(components.attoseconds) / 1e18)
    }

    // MARK: - Disk full

    @Test(
        "disk full: submits answer 507 disk_full; attempts that end meanwhile wait in memory; all acknowledged jobs are written once space returns",
        .enabled(if: StorageFaultBed.isRoot, "needs root to mount a tmpfs"))
    func diskFull() async throws {
        try await withHoldGate { gate in
            let bed = try StorageFaultBed()
            defer { bed.tearDown() }
            try bed.mountTmpfs(size: "8m")
            let daemon = bed.daemon
            try await daemon.start(["--workers", "8"])

            // Fetches held open by the gate: running when the disk fills, ending while it is full.
            var held: [JobID] = []
            for n in 0..<3 {
                let (answer, _) = try await daemon.request(
                    "POST", "/v1/jobs", body: #"{"kind":"fetch","url":"\#(gate.base)/hold/\#(n)","timeout":120}"#)
                try #require(answer.status == 201, "\(answer)")
                held.append(try answer.record().id)
            }
            try #require(
                try await gate.wait(within: .seconds(20)) { $0.arrived == 3 }, "the held fetches did not start")

            // Fill the file system but for 512 KiB, then submit until the database cannot grow.
            let filler = try bed.fill(leaving: 512 * 1024)
            var acknowledged: [JobID: String] = [:]
            var refusal: SocketAnswer?
            for n in 0..<20_000 {
                let value = "job-\(n)-" + String(repeating: "x", count: 200)
                let (answer, _) = try await daemon.submitDelay(value)
                guard answer.status == 201 else {
                    refusal = answer
                    break
                }
                acknowledged[try answer.record().id] = value
            }
            let full = try #require(refusal, "20,000 submits and the disk never filled")
            #expect(full.status == 507, "\(full)")
            #expect(full.apiError?.code == .diskFull, "\(full)")
            #expect(full.apiError?.message.contains("nothing was stored") == true, "\(full)")
            #expect(!acknowledged.isEmpty, "no submit fitted into the last 512 KiB")
            // Stable while full: the next submit is refused the same way; reads and health answer.
            let (again, _) = try await daemon.submitDelay("refused")
            #expect(again.status == 507 && again.apiError?.code == .diskFull, "\(again)")
            let healthWhileFull = try await daemon.jobctl(["health"])
            #expect(healthWhileFull.status == 0 && healthWhileFull.stdout.hasPrefix("ok:"), "\(healthWhileFull)")

            // The held fetches end now, while the disk is full: their ends cannot be written.
            // Nothing can be claimed while full, so the jobs the database has running (the
            // held fetches and delays claimed just before) are exactly the attempts in
            // memory; once all have ended, a retry logs that many ends kept.
            let (statsAnswer, _) = try await daemon.request("GET", "/v1/stats")
            let running = try JSONCodingForTests.decoder.decode(StatsResponse.self, from: Data(statsAnswer.body.utf8))
                .running
            #expect(running >= 3, "\(statsAnswer)")
            let offset = daemon.logOffset
            gate.open()
            #expect(try await gate.wait(within: .seconds(10)) { $0.answered == 3 })
            let kept = try await daemon.waitForLogLine(after: offset, within: .seconds(20)) { line in
                line.contains("ends in memory") && line.contains("[disk_full]") && keptEnds(line) == running
            }
            #expect(kept != nil, "no 'keeping \(running) ends in memory' line with [disk_full]:\n\(daemon.log())")
            for id in held {
                // The database still has them running: their ends exist only in jobd's memory.
                #expect(try await daemon.job(id).state == .running)
            }
            #expect(daemon.isRunning, "jobd died while the disk was full:\n\(daemon.log())")
            let walWhileFull = bed.size(of: "-wal")

            // Space returns: every acknowledged job is written, the held ends from memory.
            try FileManager.default.removeItem(atPath: filler)
            let freedAt = Date()
            let freed = ContinuousClock.now
            let records = try await daemon.waitFinished(held + Array(acknowledged.keys), within: .seconds(60))
            let recovered = ContinuousClock.now - freed
            for id in held {
                let record = try #require(records[id])
                #expect(record.state == .succeeded, "\(record)")
                guard case .fetch(let result)? = record.result else {
                    Issue.record("job \(id) has no fetch result: \(record)")
                    continue
                }
                #expect(result.status == 200 && result.body.hasPrefix("released"), "\(result)")
                // It ended, and was timed, while the disk was full: written later from memory.
                let ended = try #require(record.attempts?.last?.finishedAt)
                #expect(ended < freedAt, "job \(id) ended at \(ended), space came back at \(freedAt)")
            }
            for (id, value) in acknowledged {
                let record = try #require(records[id])
                #expect(record.state == .succeeded, "\(record)")
                #expect(record.result == .delay(DelayResult(value: .string(value))), "job \(id)")
            }
            let (after, _) = try await daemon.submitDelay("after")
            #expect(after.status == 201, "\(after)")
            let health = try await daemon.jobctl(["health"])
            #expect(health.status == 0 && health.stdout.hasPrefix("ok:"), "\(health)")
            #expect(daemon.isRunning, "jobd died:\n\(daemon.log())")
            #expect(try await daemon.stop() == 0, "\(daemon.log())")

            // Across a restart too: the stop checkpointed the WAL into the main file.
            #expect(bed.size(of: "-wal") == 0, "the WAL was not checkpointed at the stop")
            try await daemon.start()
            for id in held + acknowledged.keys {
                #expect(try await daemon.job(id).state == .succeeded)
            }
            #expect(try await daemon.stop() == 0)
            print(
                "StorageFaultTests.diskFull: 507 disk_full after \(acknowledged.count) acknowledged submits; "
                    + "\(running) ends kept in memory; WAL \(walWhileFull / 1024) KiB while full; "
                    + "all written \(Self.seconds(recovered)) after space returned"
            )
        }
    }

    // MARK: - Read-only

    @Test(
        "a database file made read-only (chattr +i) stops the start: exit 1 naming the file and [read_only]; once writable again nothing is lost",
        .enabled(if: StorageFaultBed.isRoot, "needs root for chattr +i"))
    func readOnlyAtStart() async throws {
        let bed = try StorageFaultBed()
        defer { bed.tearDown() }
        try bed.requireChattr()
        let daemon = bed.daemon
        try await daemon.start()
        var done: [JobID] = []
        for n in 0..<3 {
            let (answer, _) = try await daemon.submitDelay("kept-\(n)")
            try #require(answer.status == 201, "\(answer)")
            done.append(try answer.record().id)
        }
        _ = try await daemon.waitFinished(done, within: .seconds(20))
        // Acknowledged and not due for an hour: it must still be queued afterwards.
        let runAt = ISO8601DateFormatter().string(from: Date().addingTimeInterval(3600))
        let (later, _) = try await daemon.request(
            "POST", "/v1/jobs", body: #"{"kind":"delay","seconds":0,"value":"later","run_at":"\#(runAt)"}"#)
        try #require(later.status == 201, "\(later)")
        let laterID = try later.record().id
        #expect(try await daemon.stop() == 0)

        // Immutable: even root cannot open the file (or create files beside it) for writing.
        try bed.setImmutable([daemon.databasePath, bed.databaseDirectory], true)
        let (refused, took) = try await Self.runJobd(daemon)
        #expect(refused.status == 1, "\(refused)")
        #expect(refused.stderr.contains(daemon.databasePath), "\(refused)")
        #expect(refused.stderr.contains("[read_only]"), "\(refused)")
        #expect(refused.stderr.contains("mounted read-write"), "the message says what to check: \(refused)")
        #expect(took < TimingBound.duration(strict: .seconds(10), loose: .seconds(60)), "took \(took)")
        #expect(!FileManager.default.fileExists(atPath: daemon.socketPath), "a refused start left its socket")

        try bed.setImmutable([daemon.databasePath, bed.databaseDirectory], false)
        try await daemon.start()
        for id in done {
            let record = try await daemon.job(id)
            #expect(record.state == .succeeded && record.result != nil, "\(record)")
        }
        #expect(try await daemon.job(laterID).state == .queued)
        let (after, _) = try await daemon.submitDelay("after")
        #expect(after.status == 201, "\(after)")
        #expect(try await daemon.stop() == 0)
        print("StorageFaultTests.readOnlyAtStart: exit \(refused.status) [read_only] in \(Self.seconds(took))")
    }

    @Test(
        "the file system goes read-only under a running jobd (ext4 errors=remount-ro): submits answer 503 database_unavailable; ends wait in memory; no crash; after repair nothing acknowledged is lost",
        .enabled(if: StorageFaultBed.isRoot, "needs root to loop-mount an ext4 image"))
    func fileSystemGoesReadOnly() async throws {
        try await withHoldGate { gate in
            let bed = try StorageFaultBed()
            defer { bed.tearDown() }
            let (image, trigger) = try bed.mountExt4Image(megabytes: 32)
            let daemon = bed.daemon
            try await daemon.start(["--grace", "1"])
            var done: [JobID] = []
            for n in 0..<3 {
                let (answer, _) = try await daemon.submitDelay("before-\(n)")
                try #require(answer.status == 201, "\(answer)")
                done.append(try answer.record().id)
            }
            _ = try await daemon.waitFinished(done, within: .seconds(20))
            var held: [JobID] = []
            for n in 0..<2 {
                let (answer, _) = try await daemon.request(
                    "POST", "/v1/jobs", body: #"{"kind":"fetch","url":"\#(gate.base)/hold/\#(n)","timeout":120}"#)
                try #require(answer.status == 201, "\(answer)")
                held.append(try answer.record().id)
            }
            try #require(try await gate.wait(within: .seconds(20)) { $0.arrived == 2 })

            // The kernel meets an error: ext4 aborts its journal and goes read-only.
            try Data("jobd storage fault test\n".utf8).write(to: URL(fileURLWithPath: trigger))
            let (refused, took) = try await daemon.submitDelay("refused")
            #expect(refused.status == 503, "\(refused)")
            #expect(refused.apiError?.code == .databaseUnavailable, "\(refused)")
            #expect(refused.headers["retry-after"] == "5", "\(refused)")
            let offset = daemon.logOffset
            gate.open()
            let kept = try await daemon.waitForLogLine(after: offset, within: .seconds(20)) { line in
                line.contains("ends in memory") && (line.contains("[io_error]") || line.contains("[read_only]"))
                    && (keptEnds(line) ?? 0) >= 2
            }
            #expect(kept != nil, "no 'keeping N ends in memory' line:\n\(daemon.log())")
            let health = try await daemon.jobctl(["health"])
            #expect(health.status == 0 && health.stdout.hasPrefix("ok:"), "\(health)")
            #expect(daemon.isRunning, "jobd died:\n\(daemon.log())")

            // Stopping cannot write the ends either: after the grace period they are left to
            // start-up recovery, and jobd exits normally.
            let status = try await daemon.stop()
            #expect(status == 0, "\(daemon.log())")
            #expect(daemon.log().contains("giving up recording attempts"), "\(daemon.log())")

            // What an operator does: unmount, fsck, mount again; then start jobd.
            bed.unmount()
            let fsck = StorageFaultBed.tool("/usr/sbin/e2fsck", ["-f", "-y", image])
            #expect(fsck.status == 0 || fsck.status == 1, "e2fsck: \(fsck.output)")
            try bed.mountExt4(image)
            try await daemon.start()
            let records = try await daemon.waitFinished(done + held, within: .seconds(30))
            for id in done {
                #expect(records[id]?.state == .succeeded, "\(String(describing: records[id]))")
            }
            for id in held {
                // Interrupted by the stop (its end was never written), recovered, run again.
                let record = try #require(records[id])
                #expect(record.state == .succeeded, "\(record)")
                #expect(record.attempts?.first?.outcome == .interrupted, "\(record)")
            }
            let (list, _) = try await daemon.request("GET", "/v1/jobs?limit=100")
            let jobs = try JSONCodingForTests.decoder.decode(JobListResponse.self, from: Data(list.body.utf8)).jobs
            #expect(jobs.count == done.count + held.count, "the refused submit stored a job: \(jobs.map(\.id))")
            #expect(try await daemon.stop() == 0)
            print(
                "StorageFaultTests.fileSystemGoesReadOnly: \(refused.status) \(refused.apiError?.code.rawValue ?? "?") "
                    + "in \(Self.seconds(took)); \(kept ?? "")")
        }
    }

    // MARK: - Locked

    @Test(
        "locked by another process: a submit waits the 5 s busy timeout, then 503 database_busy with Retry-After; a submit made during the lock succeeds once it is released; ends wait in memory"
    )
    func lockedByAnotherProcess() async throws {
        guard let python = LockHolder.python else { try Test.cancel("needs python3 and its sqlite3 module") }
        let bed = try StorageFaultBed()
        defer { bed.tearDown() }
        let daemon = bed.daemon
        try await daemon.start(["--workers", "2"])
        let (first, _) = try await daemon.submitDelay("before")
        try #require(first.status == 201, "\(first)")
        let before = try first.record().id
        _ = try await daemon.waitFinished([before], within: .seconds(20))
        let (second, _) = try await daemon.submitDelay("during", seconds: 2)
        try #require(second.status == 201, "\(second)")
        let during = try second.record().id
        let deadline = ContinuousClock.now + .seconds(10)
        while try await daemon.job(during).state != .running {
            try #require(ContinuousClock.now < deadline, "job \(during) did not start")
            try await Task.sleep(for: .milliseconds(10))
        }

        let holder = try LockHolder(python: python, database: daemon.databasePath, directory: daemon.directory)
        try bed.launch(holder.process)
        try #require(try await holder.wait(for: "locked", within: .seconds(10)), "lock holder: \(holder.output)")

        // A submit waits for the lock for the busy timeout, then is refused: nothing stored.
        let (busy, busyTook) = try await daemon.submitDelay("refused")
        #expect(busy.status == 503, "\(busy)")
        #expect(busy.apiError?.code == .databaseBusy, "\(busy)")
        #expect(busy.apiError?.message.contains("locked by another process") == true, "\(busy)")
        #expect(busy.headers["retry-after"] == "1", "\(busy)")
        #expect(
            busyTook >= .milliseconds(1800)
                && busyTook < TimingBound.duration(strict: .seconds(15), loose: .seconds(60)),
            "took \(busyTook)")

        // The 2 s job ended meanwhile; its end cannot be written and stays in memory.
        let kept = try await daemon.waitForLogLine(after: 0, within: .seconds(30)) { line in
            line.contains("ends in memory") && line.contains("[busy]")
        }
        #expect(kept != nil, "no 'keeping N ends in memory' line with [busy]:\n\(daemon.log())")
        #expect(try await daemon.job(during).state == .running)

        // A submit made while the lock is held waits, and succeeds once it is released.
        let submitted = ContinuousClock.now
        async let waiting = daemon.submitDelay("waited")
        try await Task.sleep(for: .seconds(1))  // how long the lock stays held with the submit waiting
        let releasedAt = Date()
        holder.release()
        #expect(try await holder.wait(for: "released", within: .seconds(10)), "lock holder: \(holder.output)")
        let (waited, _) = try await waiting
        let waitedTook = ContinuousClock.now - submitted
        #expect(waited.status == 201, "\(waited)")
        let waitedID = try waited.record().id

        let records = try await daemon.waitFinished([before, during, waitedID], within: .seconds(30))
        #expect(records.values.allSatisfy { $0.state == .succeeded }, "\(records)")
        let ended = try #require(records[during]?.attempts?.last?.finishedAt)
        #expect(ended < releasedAt, "the job ended at \(ended), during the lock; written after the release")
        let (list, _) = try await daemon.request("GET", "/v1/jobs?limit=100")
        let jobs = try JSONCodingForTests.decoder.decode(JobListResponse.self, from: Data(list.body.utf8)).jobs
        #expect(jobs.count == 3, "the refused submit stored a job: \(jobs.map(\.id))")
        let health = try await daemon.jobctl(["health"])
        #expect(health.status == 0 && health.stdout.hasPrefix("ok:"), "\(health)")
        #expect(daemon.isRunning, "jobd died:\n\(daemon.log())")
        #expect(try await daemon.stop() == 0)
        print(
            "StorageFaultTests.lockedByAnotherProcess: 503 database_busy after \(Self.seconds(busyTook)); "
                + "a submit during the lock answered 201 after \(Self.seconds(waitedTook))")
    }

    @Test("a second jobd on the same database is refused at start: exit 1 naming the database; the first keeps serving")
    func secondDaemonRefused() async throws {
        try await withTestDaemon { daemon in
            let otherSocket = daemon.directory.appendingPathComponent("other.sock").path
            let (second, took) = try await Self.runJobd(daemon, socket: otherSocket)
            #expect(second.status == 1, "\(second)")
            #expect(
                second.stderr.contains("another jobd is using the database \(daemon.databasePath)"), "\(second)")
            #expect(took < TimingBound.duration(strict: .seconds(10), loose: .seconds(60)), "took \(took)")
            #expect(!FileManager.default.fileExists(atPath: otherSocket))
            let (answer, _) = try await daemon.submitDelay("still served")
            #expect(answer.status == 201, "\(answer)")
            print("StorageFaultTests.secondDaemonRefused: exit \(second.status) [busy] in \(Self.seconds(took))")
        }
    }

    // MARK: - Corrupt

    /// How the database file is damaged.
    enum Damage: String, CaseIterable, Sendable, CustomStringConvertible {
        /// Not a database at all: a text file.
        case text
        /// A jobd database whose first 4 KiB (header and schema) are garbage.
        case header
        /// A jobd database with two table pages overwritten: the header is fine.
        case page
        var description: String { rawValue }
    }

    /// Reproducible garbage.
    static func garbage(_ count: Int) -> Data {
        Data((0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11 ^ ($0 >> 7)) })
    }

    @Test(
        "a corrupt database at start: exit 65 at once, naming the file and what to do; the file is left as it was",
        arguments: Damage.allCases)
    func corruptAtStart(_ damage: Damage) async throws {
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        let url = URL(fileURLWithPath: daemon.databasePath)
        switch damage {
        case .text:
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data("these are my notes, not a database\n".utf8).write(to: url)
        case .header, .page:
            try await daemon.start()
            let jobs = (0..<200).map { #"{"kind":"delay","seconds":0,"value":"\#($0)"}"# }.joined(separator: ",")
            let (answer, _) = try await daemon.request("POST", "/v1/jobs", body: #"{"jobs":["# + jobs + "]}")
            try #require(answer.status == 201, "\(answer)")
            #expect(try await daemon.stop() == 0)
            let handle = try FileHandle(forUpdating: url)
            let size = try handle.seekToEnd()
            try #require(size >= 4 * 4096, "the database has \(size) bytes")
            try handle.seek(toOffset: damage == .header ? 0 : 4096)
            try handle.write(contentsOf: Self.garbage(damage == .header ? 4096 : 8192))
            try handle.close()
        }
        let damaged = try Data(contentsOf: url)

        let (refused, took) = try await Self.runJobd(daemon)
        #expect(refused.status == 65, "\(refused)")
        #expect(refused.stderr.contains(daemon.databasePath), "\(refused)")
        #expect(refused.stderr.contains("[corrupt]"), "\(refused)")
        #expect(refused.stderr.contains("damaged or is not a SQLite database"), "\(refused)")
        #expect(refused.stderr.contains(".recover"), "the message says what to do: \(refused)")
        #expect(took < TimingBound.duration(strict: .seconds(10), loose: .seconds(60)), "took \(took)")
        #expect(try Data(contentsOf: url) == damaged, "jobd changed the damaged file")
        #expect(!FileManager.default.fileExists(atPath: daemon.socketPath), "a refused start left its socket")
        // A restart (as systemd would do without RestartPreventExitStatus) answers the same.
        let (again, _) = try await Self.runJobd(daemon)
        #expect(again.status == 65, "\(again)")
        let line = refused.stderr.split(separator: "\n").first { $0.contains("[corrupt]") } ?? ""
        print(
            "StorageFaultTests.corruptAtStart(\(damage)): exit \(refused.status) in \(Self.seconds(took)): \(line.prefix(160))"
        )
    }
}
