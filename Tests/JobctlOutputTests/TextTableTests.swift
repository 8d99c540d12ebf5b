import Foundation
import JobdModel
import Testing

@testable import JobctlOutput

@Suite("TextTable")
struct TextTableTests {
    @Test("columns are padded to the widest cell, two spaces apart, with no trailing spaces")
    func aligned() {
        let table = TextTable(
            header: ["ID", "STATE", "SUMMARY"],
            rows: [["1", "succeeded", "delay 1s"], ["100", "queued", ""]]
        )
        #expect(
            table.lines() == [
                "ID   STATE      SUMMARY",
                "1    succeeded  delay 1s",
                "100  queued",
            ])
        #expect(table.render() == table.lines().map { $0 + "\n" }.joined())
    }

    @Test("short rows get empty cells")
    func ragged() {
        let table = TextTable(rows: [["a", "b", "c"], ["long"]])
        #expect(table.lines() == ["a     b  c", "long"])
    }

    @Test("a key/value view aligns the values")
    func keyValue() {
        let table = TextTable.keyValue([("id", "7"), ("final url", "https://x/")])
        #expect(table.lines() == ["id:         7", "final url:  https://x/"])
    }

    @Test("an empty table renders nothing; a header alone renders one line")
    func empty() {
        #expect(TextTable().render() == "")
        #expect(TextTable(header: ["ID", "STATE"]).lines() == ["ID  STATE"])
    }

    @Test("the job list has a header and one row per job: id, state, kind, attempts, created, summary")
    func jobList() {
        let created = HumanFormat.date(Fixtures.created)
        let jobs = [
            Fixtures.record(id: 12, state: .queued),
            Fixtures.record(id: 3, spec: JobSpec(.fetch(FetchSpec(url: "https://x/"))), state: .failed),
        ].map(JobSummary.init)
        #expect(
            TextTable.jobList(jobs).lines() == [
                "ID  STATE   KIND   ATTEMPTS  CREATED\(String(repeating: " ", count: created.count - 7))  SUMMARY",
                "12  queued  delay  1/3       \(created)  delay 1s",
                "3   failed  fetch  1/3       \(created)  https://x/",
            ])
        #expect(TextTable.jobList([]).lines() == ["ID  STATE  KIND  ATTEMPTS  CREATED  SUMMARY"])
    }

    @Test("a job's fields show run at only while queued, the error, and the result's summary")
    func jobFields() {
        let created = HumanFormat.date(Fixtures.created)
        let fetch = Fixtures.record(
            id: 4, spec: JobSpec(.fetch(FetchSpec(url: "https://x/"))), state: .failed,
            result: Fixtures.fetchResult(status: 404, body: "gone"), error: JobError(.httpStatus, "HTTP 404"))
        #expect(
            TextTable.jobFields(fetch).lines() == [
                "id:         4",
                "kind:       fetch",
                "state:      failed",
                "job:        https://x/",
                "priority:   0",
                "attempts:   1/3",
                "created:    \(created)",
                "finished:   \(created)",
                "error:      http_status: HTTP 404",
                "status:     404",
                "size:       4 B",
                "elapsed:    12.5 ms",
                "final url:  https://example.com/",
            ])
        let queued = Fixtures.record(state: .queued, result: .delay(DelayResult(value: .object(["a": 1]))))
        #expect(
            TextTable.jobFields(queued).lines().suffix(3) == [
                "run at:    \(created)", "finished:  -", #"value:     {"a":1}"#,
            ])
    }

    @Test("a fetch waiting for its host's rate limit says so, with the time its token is due")
    func rateLimitedJob() {
        var record = Fixtures.record(
            id: 9, spec: JobSpec(.fetch(FetchSpec(url: "http://127.0.0.1:8080/"))), state: .running)
        record.rateLimit = RateLimitWait(host: "127.0.0.1:8080", startsAt: Fixtures.created.addingTimeInterval(1.25))
        let due = HumanFormat.timeOfDay(Fixtures.created.addingTimeInterval(1.25))
        let lines = TextTable.jobFields(record).lines()
        #expect(lines.contains("start:     waiting for rate limit of 127.0.0.1:8080 (token due \(due))"), "\(lines)")
        record.rateLimit = nil
        #expect(!TextTable.jobFields(record).lines().contains { $0.hasPrefix("start:") })
    }

    @Test("the attempts table shows each attempt's times, outcome and error")
    func attempts() {
        let started = HumanFormat.date(Fixtures.created)
        let attempts = [
            JobAttempt(
                id: 1, number: 1, startedAt: Fixtures.created, finishedAt: Fixtures.created, outcome: .failed,
                error: JobError(.jobFailed, "boom")),
            JobAttempt(id: 2, number: 2, startedAt: Fixtures.created, finishedAt: nil, outcome: .running, error: nil),
        ]
        func pad(_ title: String) -> String { title + String(repeating: " ", count: started.count - title.count) }
        #expect(
            TextTable.attempts(attempts).lines() == [
                "#  \(pad("STARTED"))  \(pad("ENDED"))  OUTCOME  ERROR",
                "1  \(started)  \(started)  failed   job_failed: boom",
                "2  \(started)  \(pad("-"))  running",
            ])
    }

    @Test("on PostgreSQL the attempts table names each attempt's node")
    func attemptsWithNodes() {
        let started = HumanFormat.date(Fixtures.created)
        let attempts = [
            JobAttempt(
                id: 1, number: 1, startedAt: Fixtures.created, finishedAt: Fixtures.created, outcome: .interrupted,
                error: JobError(.interrupted, "lost"), node: "node-0"),
            JobAttempt(
                id: 2, number: 2, startedAt: Fixtures.created, finishedAt: Fixtures.created, outcome: .succeeded,
                error: nil, node: "node-12"),
        ]
        let lines = TextTable.attempts(attempts).lines()
        #expect(lines.first?.hasPrefix("#  NODE     STARTED") == true, "\(lines)")
        #expect(lines.dropFirst().first?.hasPrefix("1  node-0   \(started)") == true, "\(lines)")
        #expect(lines.last?.hasPrefix("2  node-12  \(started)") == true, "\(lines)")
    }

    @Test("wait's table is id and state per job, without a header")
    func jobStates() {
        let records = [Fixtures.record(id: 5, state: .succeeded), Fixtures.record(id: 10, state: .cancelled)]
        #expect(TextTable.jobStates(records).lines() == ["5   succeeded", "10  cancelled"])
    }

    @Test("stats and workers are key/value views with yes/no flags and a compact uptime")
    func daemonViews() {
        let stats = StatsResponse(
            queued: 1, running: 2, succeeded: 3, failed: 4, cancelled: 5, workers: 8, paused: true, maxRunning: 6,
            submitted: 15, finished: 12, commits: 9, uptimeSeconds: 303.7, rateLimited: 1)
        #expect(
            TextTable.stats(stats).lines() == [
                "waiting:       0", "queued:        1", "running:       2", "rate_limited:  1", "succeeded:     3",
                "failed:        4", "cancelled:     5",
                "workers:       8", "paused:        yes", "max_running:   6", "submitted:     15", "finished:      12",
                "commits:       9", "uptime:        5m 3s",
            ])
        var sized = stats
        sized.databaseBytes = 3 * 1024 * 1024
        sized.databaseFreeBytes = 512
        #expect(
            Array(TextTable.stats(sized).lines().suffix(2)) == [
                "uptime:        5m 3s", "database:      3 MiB (512 B free)",
            ])
        sized.databaseWALBytes = 4096
        #expect(TextTable.stats(sized).lines().last == "database:      3 MiB (512 B free, WAL 4 KiB)")
        sized.databaseFreeBytes = nil
        sized.databaseWALBytes = nil
        #expect(TextTable.stats(sized).lines().last == "database:      3 MiB")
        #expect(
            TextTable.dispatch(DispatchResponse(workers: 4, paused: false)).lines() == [
                "workers:  4", "paused:   no",
            ])
    }
}
