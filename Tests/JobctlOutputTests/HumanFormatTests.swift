import Foundation
import JobdModel
import Testing

@testable import JobctlOutput
@testable import JobdClient

@Suite("HumanFormat")
struct HumanFormatTests {
    @Test("dates print as yyyy-MM-dd HH:mm:ss in the given zone")
    func dates() throws {
        let date = try #require(RFC3339.date(from: "2026-11-25T14:05:09.750Z"))
        let utc = try #require(TimeZone(identifier: "UTC"))
        let berlin = try #require(TimeZone(identifier: "Europe/Berlin"))
        #expect(HumanFormat.date(date, timeZone: utc) == "2026-11-25 14:05:09")
        #expect(HumanFormat.date(date, timeZone: berlin) == "2026-11-25 15:05:09")
        #expect(HumanFormat.date(nil as Date?, timeZone: utc) == "-")
    }

    @Test(
        "seconds print compactly",
        arguments: [
            (0.0, "0s"), (0.25, "0.25s"), (1.5, "1.5s"), (12, "12s"), (59.999, "60s"), (60, "1m"),
            (303, "5m 3s"), (3725.2, "1h 2m"), (7200, "2h"), (273_600, "3d 4h"), (-1, "0s"),
        ])
    func seconds(value: Double, expected: String) {
        #expect(HumanFormat.seconds(value) == expected)
    }

    @Test(
        "the client's error messages name durations as HumanFormat.seconds does",
        arguments: [
            Duration.zero, .milliseconds(250), .milliseconds(1500), .seconds(30), .milliseconds(59_999),
            .seconds(60), .seconds(70), .seconds(303), .milliseconds(3_725_200), .seconds(7200),
            .seconds(273_600), .seconds(-1),
        ])
    func messageText(duration: Duration) {
        #expect(duration.messageText == HumanFormat.seconds(duration))
    }

    @Test("sizes and milliseconds")
    func sizes() {
        #expect(HumanFormat.bytes(512) == "512 B")
        #expect(HumanFormat.bytes(1536) == "1.5 KiB")
        #expect(HumanFormat.bytes(10 * 1024 * 1024) == "10 MiB")
        #expect(HumanFormat.milliseconds(12.5) == "12.5 ms")
        #expect(HumanFormat.milliseconds(1234.5) == "1.23 s")
    }

    @Test("a job's summary is its URL or its delay")
    func summary() {
        #expect(HumanFormat.summary(JobSpec(.fetch(FetchSpec(url: "https://x/")))) == "https://x/")
        #expect(HumanFormat.summary(JobSpec(.delay(DelaySpec(seconds: 1.5)))) == "delay 1.5s")
        #expect(HumanFormat.summary(JobSpec(.delay(DelaySpec(seconds: 2, fail: "x")))) == "delay 2s (fails)")
    }

    @Test("times of day keep milliseconds, rounded to the nearest")
    func timeOfDay() throws {
        let utc = try #require(TimeZone(identifier: "UTC"))
        let berlin = try #require(TimeZone(identifier: "Europe/Berlin"))
        let date = try #require(RFC3339.date(from: "2026-11-25T14:25:04.123Z"))
        #expect(HumanFormat.timeOfDay(date, timeZone: utc) == "14:25:04.123")
        #expect(HumanFormat.timeOfDay(date, timeZone: berlin) == "15:25:04.123")
        let late = try #require(RFC3339.date(from: "2026-11-25T23:59:59.9996Z"))
        #expect(HumanFormat.timeOfDay(late, timeZone: utc) == "00:00:00.000")
        let early = try #require(RFC3339.date(from: "2026-11-25T00:00:00.007Z"))
        #expect(HumanFormat.timeOfDay(early, timeZone: utc) == "00:00:00.007")
    }

    @Test("event lines are aligned: time, job, type, details")
    func eventLines() throws {
        let utc = try #require(TimeZone(identifier: "UTC"))
        let time = try #require(RFC3339.date(from: "2026-11-25T14:25:04.123Z"))
        let runAt = try #require(RFC3339.date(from: "2026-11-25T14:25:05.5Z"))
        let boom = JobError(.jobFailed, "boom")
        let lines = [
            JobEvent(id: 1, type: .submitted, jobID: 5, state: .queued, time: time),
            JobEvent(id: 2, type: .started, jobID: 5, state: .running, attempt: 1, time: time),
            JobEvent(id: 3, type: .attemptFailed, jobID: 5, state: .running, attempt: 1, error: boom, time: time),
            JobEvent(id: 4, type: .retryScheduled, jobID: 5, state: .queued, attempt: 1, runAt: runAt, time: time),
            JobEvent(id: 5, type: .failed, jobID: 123_456, state: .failed, attempt: 3, error: boom, time: time),
            JobEvent(id: 6, type: .lagged, jobID: nil, state: nil, time: time),
        ].map { HumanFormat.event($0, timeZone: utc) }
        #expect(
            lines == [
                "14:25:04.123  job 5       submitted",
                "14:25:04.123  job 5       started          attempt 1",
                "14:25:04.123  job 5       attempt_failed   attempt 1  job_failed: boom",
                "14:25:04.123  job 5       retry_scheduled  attempt 1  at 14:25:05.500",
                "14:25:04.123  job 123456  failed           attempt 3  job_failed: boom",
                "14:25:04.123  -           lagged",
            ])
    }

    @Test("the health line names the status, version, pid, whole seconds of uptime and database")
    func health() {
        let health = HealthResponse(
            status: "ok", version: "0.1.0", pid: 42, uptimeSeconds: 12.9, database: "/var/lib/jobd/jobd.db")
        #expect(HumanFormat.health(health) == "ok: jobd 0.1.0, pid 42, up 12s, database /var/lib/jobd/jobd.db")
    }
}
