import Foundation
import JobdModel
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Data lifecycle end to end (issue 14): `jobctl backup` while jobd works, checked with
/// the `sqlite3` CLI and by starting a second jobd on the copy; sizes in stats and
/// metrics; `jobctl vacuum`; and an older jobd refusing a newer schema.
@Suite struct DataLifecycleTests {
    /// Debian's `sqlite3` (`.ci/run` installs it).
    static func sqlite3(_ file: String, _ sql: String) async throws -> String {
        let cli = URL(fileURLWithPath: "/usr/bin/sqlite3")
        try #require(
            FileManager.default.isExecutableFile(atPath: cli.path),
            "the sqlite3 CLI is missing: apt-get install sqlite3")
        let output = try await run(cli, [file, sql])
        #expect(output.status == 0, "sqlite3 \(file) '\(sql)': \(output)")
        return output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Every job the stats count, whatever its state.
    static func total(_ stats: StatsResponse) -> Int {
        stats.waiting + stats.queued + stats.running + stats.succeeded + stats.failed + stats.cancelled
    }

    /// A file of `count` delay-0 specs, one NDJSON line each.
    static func specFile(_ count: Int, in directory: URL, value: String = "w1") throws -> URL {
        let url = directory.appendingPathComponent("specs-\(UUID().uuidString.prefix(8)).ndjson")
        let line = #"{"kind":"delay","seconds":0,"value":"\#(value)"}"#
        try (Array(repeating: line, count: count).joined(separator: "\n") + "\n").write(
            to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test(
        "a backup taken while 20,000 delay-0 jobs are submitted and run passes integrity_check, holds whole submits only, and a second jobd starts on it",
        .heavy)
    func backupDuringLoad() async throws {
        try await withTestDaemon { daemon in
            let specs = try Self.specFile(1000, in: daemon.directory)
            // 20 submits of 1,000 jobs, each one transaction: a consistent copy holds a
            // multiple of 1,000 jobs.
            async let submits: [Int32] = {
                var statuses: [Int32] = []
                for _ in 0..<20 {
                    statuses.append(try await daemon.jobctl(["submit", "--file", specs.path]).status)
                }
                return statuses
            }()
            try await waitUntil("5,000 jobs submitted", deadline: .seconds(120)) {
                try await daemon.jobctlJSON(StatsResponse.self, ["stats"]).submitted >= 5000
            }
            let file = daemon.directory.appendingPathComponent("backup.sqlite").path
            let backup = try await daemon.jobctl(["backup", file])
            let during = try await daemon.jobctlJSON(StatsResponse.self, ["stats"])
            #expect(try await submits == Array(repeating: 0, count: 20))
            #expect(backup.status == 0, "\(backup)")
            #expect(
                backup.stdout.hasPrefix("wrote ") && backup.stdout.contains(" bytes (") && backup.stdout.contains(file))
            #expect(!FileManager.default.fileExists(atPath: file + ".partial"))
            let attributes = try FileManager.default.attributesOfItem(atPath: file)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            // Nothing is left beside the daemon's database.
            let leftovers = try FileManager.default.contentsOfDirectory(
                atPath: (daemon.databasePath as NSString).deletingLastPathComponent
            ).filter { $0.contains(".backup-") }
            #expect(leftovers.isEmpty, "\(leftovers)")

            #expect(try await Self.sqlite3(file, "PRAGMA integrity_check") == "ok")
            let jobs = try #require(Int(try await Self.sqlite3(file, "SELECT count(*) FROM jobs")))
            let states = try await Self.sqlite3(file, "SELECT state || '=' || count(*) FROM jobs GROUP BY state")
            #expect(jobs >= 5000 && jobs <= 20_000 && jobs % 1000 == 0, "\(jobs) jobs in the copy")
            print(
                "DataLifecycleTests.backupDuringLoad: \(backup.stdout.trimmingCharacters(in: .newlines)); "
                    + "\(jobs) jobs in the copy (\(states.split(separator: "\n").joined(separator: ", "))); "
                    + "\(during.submitted) submitted and \(during.finished) finished by the daemon right after")

            // A second jobd on a copy of the backup, with its own socket.
            let restored = try TestDaemon()
            defer { restored.cleanUp() }
            try FileManager.default.createDirectory(
                atPath: (restored.databasePath as NSString).deletingLastPathComponent,
                withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: file, toPath: restored.databasePath)
            try await restored.start()
            let health = try await restored.jobctl(["health"])
            #expect(health.status == 0 && health.stdout.contains("ok"), "\(health)")
            let stats = try await restored.jobctlJSON(StatsResponse.self, ["stats"])
            #expect(Self.total(stats) == jobs)
            #expect(try await restored.stop() == 0, "\(restored.log())")
        }
    }

    @Test("stats and metrics report the database's size; prune leaves free pages that vacuum gives back")
    func sizesAndVacuum() async throws {
        try await withTestDaemon { daemon in
            let filler = String(repeating: "z", count: 2000)
            let specs = try Self.specFile(2000, in: daemon.directory, value: filler)
            let submitted = try await daemon.jobctl(["submit", "--file", specs.path])
            #expect(submitted.status == 0, "\(submitted)")
            try await waitUntil("2,000 jobs succeeded", deadline: .seconds(120)) {
                try await daemon.jobctlJSON(StatsResponse.self, ["stats"]).succeeded == 2000
            }
            let full = try await daemon.jobctlJSON(StatsResponse.self, ["stats"])
            let bytes = try #require(full.databaseBytes)
            #expect(bytes > 2000 * 2000)
            #expect(full.databaseWALBytes != nil && full.databaseFreeBytes != nil)
            let text = try await daemon.jobctl(["stats"])
            #expect(text.stdout.contains("database:") && text.stdout.contains("MiB"), "\(text)")
            let metrics = httpBody(
                of: try rawHTTP(
                    socketPath: daemon.socketPath, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
            #expect(metrics.contains("jobd_database_bytes "), "\(metrics.prefix(400))")
            #expect(metrics.contains("jobd_database_free_bytes ") && metrics.contains("jobd_database_wal_bytes "))

            #expect(try await daemon.jobctl(["prune", "--older-than", "0s"]).stdout == "pruned 2000 jobs\n")
            let pruned = try await daemon.jobctlJSON(StatsResponse.self, ["stats"])
            #expect(try #require(pruned.databaseFreeBytes) > 2000 * 2000)
            let vacuum = try await daemon.jobctl(["vacuum"])
            #expect(vacuum.status == 0 && vacuum.stdout.hasPrefix("database "), "\(vacuum)")
            print("DataLifecycleTests.sizesAndVacuum: \(vacuum.stdout.trimmingCharacters(in: .newlines))")
            let after = try await daemon.jobctlJSON(StatsResponse.self, ["stats"])
            #expect(after.databaseFreeBytes == 0)
            #expect(try #require(after.databaseBytes) < bytes - 2000 * 2000)
            let again = try await daemon.jobctlJSON(VacuumResponse.self, ["vacuum"])
            #expect(again.freeBytesBefore == 0 && again.bytesAfter == again.bytesBefore)
            // Writes go on after a vacuum.
            #expect(try await daemon.jobctl(["submit", "delay", "0"]).status == 0)
        }
    }

    @Test("a backup to a file jobctl cannot create fails cannot_write, exit 1, and leaves no file")
    func backupUnwritable() async throws {
        try await withTestDaemon { daemon in
            let file = daemon.directory.appendingPathComponent("missing/backup.sqlite").path
            let backup = try await daemon.jobctl(["backup", file])
            #expect(backup.status == 1, "\(backup)")
            #expect(backup.stderr.contains("[cannot_write]") && backup.stderr.contains("missing/backup.sqlite.partial"))
            let leftovers = try FileManager.default.contentsOfDirectory(
                atPath: (daemon.databasePath as NSString).deletingLastPathComponent
            ).filter { $0.contains(".backup-") }
            #expect(leftovers.isEmpty, "\(leftovers)")
        }
    }

    @Test("an older jobd refuses a database that a newer jobd migrated: exit 65, saying what to do")
    func newerSchemaRefused() async throws {
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try await daemon.start()
        #expect(try await daemon.jobctl(["submit", "delay", "0"]).status == 0)
        #expect(try await daemon.stop() == 0)
        _ = try await Self.sqlite3(daemon.databasePath, "INSERT INTO grdb_migrations (identifier) VALUES ('v99')")
        await #expect(throws: TestDaemon.DaemonFailed.self) { try await daemon.start() }
        #expect(daemon.process?.terminationStatus == 65, "\(daemon.log())")
        let log = daemon.log()
        #expect(log.contains("schema_too_new") && log.contains("v99"), "\(log)")
        #expect(log.contains("newer jobd") && log.contains("restore a backup"), "\(log)")
    }
}
