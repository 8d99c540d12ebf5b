import Foundation
import JobdModel
import Testing

/// Schedules end to end (issue 13): the real jobd firing real cron slots, declared in the
/// configuration file and through jobctl.
@Suite(.timingSensitive) struct ScheduleTests {
    /// The jobs a schedule made (by their `schedule:NAME:` keys), oldest first.
    static func fired(_ name: String, in daemon: TestDaemon) async throws -> [JobSummary] {
        let page = try await daemon.jobctlJSON(JobListResponse.self, ["list", "--limit", "1000"])
        return page.jobs.filter { $0.spec.key?.hasPrefix("schedule:\(name):") == true }.sorted { $0.id < $1.id }
    }

    /// The slot a job was fired for, from its key.
    static func slot(of job: JobSummary) -> Date? {
        let parts = job.spec.key?.split(separator: ":", maxSplits: 2) ?? []
        return parts.count == 3 ? RFC3339.date(from: String(parts[2])) : nil
    }

    /// Sleeps until just after the first minute boundary after `date` (when a
    /// `* * * * *` slot fires): a poll every 50 ms for a minute would launch a thousand
    /// jobctl processes.
    static func sleepPastBoundary(after date: Date) async throws {
        let boundary = (date.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60
        try await Task.sleep(for: .seconds(max(0, boundary + 0.5 - Date().timeIntervalSince1970)))
    }

    static func config(_ schedules: [(name: String, missed: String)]) -> String {
        "schedules:\n"
            + schedules.map { schedule in
                """
                  - name: \(schedule.name)
                    cron: "* * * * *"
                    timezone: UTC
                    missed: \(schedule.missed)
                    job: {kind: delay, seconds: 0, value: \(schedule.name)}

                """
            }.joined()
    }

    @Test(
        "a * * * * * schedule fires at the next minute boundary; after three missed slots skip fires none, once one, all three"
    )
    func everyMinuteAndMissed() async throws {
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        let names = [("skip", "skip"), ("once", "once"), ("all", "all")]
        try Self.config(names.map { (name: "every-\($0.0)", missed: $0.1) })
            .write(to: daemon.directory.appendingPathComponent("jobd.yaml"), atomically: true, encoding: .utf8)
        let startedAt = Date()
        try await daemon.start()
        // The first slot: the next minute boundary after the start.
        try await Self.sleepPastBoundary(after: startedAt)
        var first: [String: JobSummary] = [:]
        try await waitUntil("each schedule fired its first slot", deadline: .seconds(90)) {
            for (name, _) in names {
                if let job = try await Self.fired("every-\(name)", in: daemon).first { first[name] = job }
            }
            return first.count == names.count
        }
        for (name, job) in first {
            let slot = try #require(Self.slot(of: job), "\(job)")
            #expect(slot.timeIntervalSince1970.truncatingRemainder(dividingBy: 60) == 0, "\(name): \(slot)")
            let late = job.createdAt.timeIntervalSince(slot)
            print("ScheduleTests: every-\(name) fired its slot \(RFC3339.string(from: slot)) \(late) s after it")
            #expect(late >= 0 && late < TimingBound.seconds(strict: 1, loose: 10), "\(name)")
            #expect(job.runAt == slot)
        }
        let firstSlot = try #require(first["skip"].flatMap { Self.slot(of: $0) })
        // Stopped over the next three slots.
        #expect(try await daemon.stop() == 0)
        let restartAt = firstSlot.addingTimeInterval(3 * 60 + 5)
        try await Task.sleep(for: .seconds(max(0, restartAt.timeIntervalSinceNow)))
        try await daemon.start()
        try await Task.sleep(for: .milliseconds(500))
        let missed = (1...3).map { firstSlot.addingTimeInterval(Double($0) * 60) }
        var after: [String: [Date]] = [:]
        try await waitUntil("the missed slots were dealt with", deadline: .seconds(30)) {
            for (name, _) in names {
                after[name] = try await Self.fired("every-\(name)", in: daemon).compactMap { Self.slot(of: $0) }
                    .filter { $0 > firstSlot && $0 <= missed[2] }
            }
            let skip = try await daemon.jobctlJSON(ScheduleList.self, ["schedule", "list"]).schedules
                .first { $0.name == "every-skip" }
            return after["once"]?.count == 1 && after["all"]?.count == 3
                && (skip?.lastSlot ?? .distantPast) >= missed[2]
        }
        print("ScheduleTests: after 3 missed slots: \(after.mapValues(\.count))")
        #expect(after["skip"] == [])
        #expect(after["once"] == [missed[2]])
        #expect(after["all"] == missed)
        #expect(try await daemon.stop() == 0)
    }

    @Test("jobctl schedule add/list/pause/resume/rm; a bad cron or zone is 400 naming the field")
    func commands() async throws {
        try await withTestDaemon { daemon in
            let added = try await daemon.jobctl([
                "schedule", "add", "nightly", "30 2 * * *", "--timezone", "Europe/Berlin", "--missed", "once",
                "--delay", "0", "--value", "report",
            ])
            #expect(added.status == 0, "\(added)")
            let list = try await daemon.jobctlJSON(ScheduleList.self, ["schedule", "list"])
            let nightly = try #require(list.schedules.first)
            #expect(nightly.name == "nightly" && nightly.spec.missed == .once && nightly.source == .api)
            #expect(nightly.ownerUID == getuid())
            #expect(nightly.next.count == 5)
            let berlin = TimeZone(identifier: "Europe/Berlin")!
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = berlin
            for time in nightly.next {
                let parts = calendar.dateComponents([.hour, .minute], from: time)
                #expect(parts.hour == 2 && parts.minute == 30, "\(time)")
            }
            let text = try await daemon.jobctl(["schedule", "list"])
            #expect(text.stdout.contains("nightly") && text.stdout.contains(" 02:30 +01:00"), "\(text)")
            #expect(text.stdout.split(separator: "\n").count == 1 + 5, "\(text)")

            let paused = try await daemon.jobctl(["schedule", "pause", "nightly"])
            #expect(paused.status == 0 && paused.stdout == "schedule nightly paused\n", "\(paused)")
            let shown = try await daemon.jobctlJSON(ScheduleList.self, ["schedule", "list"]).schedules[0]
            #expect(shown.paused && shown.next.isEmpty)
            #expect(try await daemon.jobctl(["schedule", "resume", "nightly"]).stdout == "schedule nightly resumed\n")

            // The API's 400s, field named.
            for (body, field) in [
                (#"{"name":"x","cron":"61 * * * *","job":{"kind":"delay","seconds":0}}"#, "cron"),
                (#"{"name":"x","cron":"* * * *","job":{"kind":"delay","seconds":0}}"#, "cron"),
                (
                    #"{"name":"x","cron":"@daily","timezone":"Mars/Olympus","job":{"kind":"delay","seconds":0}}"#,
                    "timezone"
                ),
                (#"{"name":"x y","cron":"@daily","job":{"kind":"delay","seconds":0}}"#, "name"),
                (#"{"name":"x","cron":"@daily","job":{"kind":"delay","seconds":-1}}"#, "job.seconds"),
                (#"{"name":"x","cron":"@daily","job":{"kind":"delay","seconds":0,"key":"k"}}"#, "job.key"),
                (#"{"name":"x","cron":"@daily","missed":"sometimes","job":{"kind":"delay","seconds":0}}"#, "missed"),
            ] {
                let response = try rawHTTP(
                    socketPath: daemon.socketPath,
                    "POST /v1/schedules HTTP/1.1\r\nHost: jobd\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
                )
                #expect(response.hasPrefix("HTTP/1.1 400"), "\(body): \(response)")
                let error = try JSONDecoder().decode(APIErrorResponse.self, from: Data(httpBody(of: response).utf8))
                #expect(error.error.code == .invalidSpec, "\(body)")
                #expect(error.error.field == field, "\(body): \(error)")
            }
            // A user key may not pose as a schedule's firing.
            let posing = try await daemon.jobctl(["submit", "delay", "0", "--key", "schedule:nightly:x"])
            #expect(posing.status != 0 && posing.stderr.contains("reserved for schedules"), "\(posing)")

            // Without a zone: the daemon's own is stored, and it parses again.
            let local = try await daemon.jobctlJSON(
                ScheduleRecord.self, ["schedule", "add", "local", "@hourly", "--delay", "0"])
            #expect(local.spec.timezone == TimeZone.current.identifier && local.next.count == 5, "\(local)")
            #expect(try await daemon.jobctl(["schedule", "rm", "local"]).status == 0)

            let removed = try await daemon.jobctl(["schedule", "rm", "nightly"])
            #expect(removed.status == 0 && removed.stdout == "schedule nightly removed\n", "\(removed)")
            let gone = try await daemon.jobctl(["schedule", "rm", "nightly"])
            #expect(gone.status != 0 && gone.stderr.contains("schedule_not_found"), "\(gone)")
        }
    }

    @Test("configured schedules: a bad cron is exit 78 naming the key; SIGHUP adds and removes; rm refuses them")
    func configured() async throws {
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("jobd-sched-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: bad) }
        try """
        schedules:
          - name: ok
            cron: "@hourly"
            job: {kind: delay, seconds: 0}
          - name: broken
            cron: "0 25 * * *"
            job: {kind: delay, seconds: 0}
        """.write(to: bad, atomically: true, encoding: .utf8)
        let check = try await run(Binaries.jobd, ["--check-config", "--config", bad.path], timeout: .seconds(30))
        #expect(check.status == 78, "\(check)")
        #expect(check.stderr.hasPrefix("jobd: invalid configuration: schedules[1].cron: "), "\(check)")
        #expect(check.stderr.contains("25"), "\(check)")

        // --check-config shows the schedules, and its output is itself a valid file.
        try "schedules:\n  - name: ok\n    cron: \"@hourly\"\n    timezone: UTC\n    job: {kind: delay, seconds: 0}\n"
            .write(to: bad, atomically: true, encoding: .utf8)
        let shown = try await run(Binaries.jobd, ["--check-config", "--config", bad.path], timeout: .seconds(30))
        #expect(shown.status == 0 && shown.stdout.contains(#"  - {"cron":"@hourly""#), "\(shown)")
        try shown.stdout.write(to: bad, atomically: true, encoding: .utf8)
        let again = try await run(Binaries.jobd, ["--check-config", "--config", bad.path], timeout: .seconds(30))
        #expect(again.status == 0 && again.stdout.contains(#""name":"ok""#), "\(again)")

        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        let config = daemon.directory.appendingPathComponent("jobd.yaml")
        try "workers: 4\nschedules:\n  - name: hourly\n    cron: \"@hourly\"\n    job: {kind: delay, seconds: 0}\n"
            .write(to: config, atomically: true, encoding: .utf8)
        try await daemon.start()
        var names = try await daemon.jobctlJSON(ScheduleList.self, ["schedule", "list"]).schedules.map(\.name)
        #expect(names == ["hourly"])
        let refused = try await daemon.jobctl(["schedule", "rm", "hourly"])
        #expect(refused.status != 0 && refused.stderr.contains("configuration file"), "\(refused)")
        let taken = try await daemon.jobctl(["schedule", "add", "hourly", "@daily", "--delay", "1"])
        #expect(taken.status != 0 && taken.stderr.contains("schedule_exists"), "\(taken)")

        try "workers: 4\nschedules:\n  - name: daily\n    cron: \"@daily\"\n    job: {kind: delay, seconds: 0}\n"
            .write(to: config, atomically: true, encoding: .utf8)
        let pid = try #require(daemon.process?.processIdentifier)
        kill(pid, SIGHUP)
        try await waitUntil("the reload replaced the schedules") {
            names = try await daemon.jobctlJSON(ScheduleList.self, ["schedule", "list"]).schedules.map(\.name)
            return names == ["daily"]
        }
        #expect(daemon.log().contains("configured schedules updated"))
        #expect(try await daemon.stop() == 0)
    }
}
