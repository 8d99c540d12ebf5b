import Foundation
import JobdModel
import Testing

@Suite struct JobRecordTests {
    /// A record with every optional field set. Times are whole or binary-fraction seconds, which
    /// the millisecond wire format holds exactly.
    static func fullRecord() throws -> JobRecord {
        let error = JobError(.httpStatus, "the server answered 503", httpStatus: 503)
        return JobRecord(
            id: 17, kind: .fetch,
            spec: JobSpec(
                .fetch(FetchSpec(url: "https://example.com/a", headers: ["Accept": "*/*"], maxBodyBytes: 1024)),
                timeout: 30, maxAttempts: 3, priority: 2, runAt: try utc("2026-11-25T14:25:00Z"), onInterrupt: .fail,
                key: "k"),
            state: .failed, priority: 2, runAt: try utc("2026-11-25T14:25:01.500Z"), maxAttempts: 3, attemptCount: 2,
            createdAt: try utc("2026-11-25T14:24:59.250Z"), updatedAt: try utc("2026-11-25T14:25:02.125Z"),
            finishedAt: try utc("2026-11-25T14:25:02.125Z"), submitterUID: 1000,
            result: .fetch(
                FetchResult(
                    status: 503, headers: [:], body: "busy", bodyEncoding: .utf8, size: 4, elapsedMs: 3.5,
                    finalURL: "https://example.com/a")),
            error: error,
            attempts: [
                JobAttempt(
                    id: 1, number: 1, startedAt: try utc("2026-11-25T14:25:00Z"),
                    finishedAt: try utc("2026-11-25T14:25:00.500Z"), outcome: .interrupted,
                    error: JobError(.interrupted, "stopped")),
                JobAttempt(
                    id: 2, number: 2, startedAt: try utc("2026-11-25T14:25:01.500Z"),
                    finishedAt: try utc("2026-11-25T14:25:02.125Z"), outcome: .failed, error: error),
            ])
    }

    @Test("a full record survives a round trip")
    func fullRoundTrip() throws {
        let record = try Self.fullRecord()
        #expect(try roundTrip(record) == record)
    }

    @Test("a queued record without result, error or attempts survives a round trip and omits them")
    func minimalRoundTrip() throws {
        let record = JobRecord(
            id: 1, kind: .delay, spec: JobSpec(.delay(DelaySpec(seconds: 1))), state: .queued, priority: 0,
            runAt: try utc("2026-01-01T00:00:00Z"), maxAttempts: 1, attemptCount: 0,
            createdAt: try utc("2026-01-01T00:00:00Z"), updatedAt: try utc("2026-01-01T00:00:00Z"),
            finishedAt: nil, submitterUID: nil, result: nil, error: nil, attempts: nil)
        #expect(try roundTrip(record) == record)
        #expect(
            try encodeToString(record)
                == #"{"attempt_count":0,"created_at":"2026-01-01T00:00:00.000Z","id":1,"kind":"delay","max_attempts":1,"priority":0,"run_at":"2026-01-01T00:00:00.000Z","spec":{"kind":"delay","seconds":1},"state":"queued","updated_at":"2026-01-01T00:00:00.000Z"}"#
        )
    }

    @Test("a record encodes with snake_case keys and RFC 3339 UTC times with milliseconds")
    func wireKeys() throws {
        let object = try #require(
            JSONSerialization.jsonObject(with: JSONCoding.makeEncoder().encode(Self.fullRecord())) as? [String: Any])
        #expect(
            Set(object.keys) == [
                "id", "kind", "spec", "state", "priority", "run_at", "max_attempts", "attempt_count", "created_at",
                "updated_at", "finished_at", "submitter_uid", "result", "error", "attempts",
            ])
        #expect(object["run_at"] as? String == "2026-11-25T14:25:01.500Z")
        let attempts = try #require(object["attempts"] as? [[String: Any]])
        #expect(Set(attempts[0].keys) == ["id", "number", "started_at", "finished_at", "outcome", "error"])
        #expect(attempts[0]["outcome"] as? String == "interrupted")
    }

    @Test("a fetch waiting for a rate limit carries rate_limit: the host and when its token is due")
    func rateLimitFixture() throws {
        let record = try JSONCoding.makeDecoder().decode(
            JobRecord.self, from: fixtureData("job-record-rate-limited.json"))
        #expect(record.state == .running)
        #expect(
            record.rateLimit == RateLimitWait(host: "127.0.0.1:8080", startsAt: try utc("2026-11-25T14:25:01.250Z")))
        #expect(try roundTrip(record) == record)
        let text = try encodeToString(record)
        #expect(
            text.contains(#""rate_limit":{"host":"127.0.0.1:8080","starts_at":"2026-11-25T14:25:01.250Z"}"#), "\(text)")
        // The golden file is this encoding, pretty-printed: the same keys, nothing more.
        let golden = try #require(
            JSONSerialization.jsonObject(with: fixtureData("job-record-rate-limited.json")) as? NSDictionary)
        let encoded = try #require(
            JSONSerialization.jsonObject(with: JSONCoding.makeEncoder().encode(record)) as? NSDictionary)
        #expect(encoded == golden)
        // A record without a wait omits the key; one from an older daemon decodes without it.
        #expect(try !encodeToString(Self.fullRecord()).contains("rate_limit"))
    }

    @Test("the checked-in v1 record fixture keeps decoding with every field")
    func v1FixtureDecodes() throws {
        let record = try JSONCoding.makeDecoder().decode(JobRecord.self, from: fixtureData("job-record-v1.json"))
        func expectTime(_ date: Date?, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let date = try #require(date, sourceLocation: sourceLocation)
            let expected = try utc(text)
            #expect(abs(date.timeIntervalSince(expected)) < 0.000_5, "\(text)", sourceLocation: sourceLocation)
        }

        #expect(record.id == 17)
        #expect(record.kind == .fetch)
        #expect(record.state == .failed)
        #expect(record.priority == 5)
        #expect(record.maxAttempts == 2)
        #expect(record.attemptCount == 3)
        #expect(record.submitterUID == 1000)
        try expectTime(record.runAt, "2026-11-25T14:25:12.500Z")
        try expectTime(record.createdAt, "2026-11-25T14:25:04.120Z")
        try expectTime(record.updatedAt, "2026-11-25T14:25:12.999Z")
        try expectTime(record.finishedAt, "2026-11-25T14:25:12.999Z")

        #expect(
            record.spec
                == JobSpec(
                    .fetch(
                        FetchSpec(
                            url: "https://api.example.com/report",
                            headers: ["Accept": "application/json", "Authorization": "Bearer not-a-real-token"],
                            maxBodyBytes: 1_048_576)),
                    timeout: 30, maxAttempts: 2, priority: 5, runAt: try utc("2026-11-25T14:25:04Z"),
                    onInterrupt: .retry, key: "report-2026-11-25"))
        #expect(
            record.result
                == .fetch(
                    FetchResult(
                        status: 503, headers: ["content-type": "text/plain; charset=utf-8", "retry-after": "30"],
                        body: "upstream busy, try later", bodyEncoding: .utf8, size: 24, elapsedMs: 498.75,
                        finalURL: "https://api.example.com/v2/report")))
        let unavailable = JobError(.httpStatus, "the server answered 503 Service Unavailable", httpStatus: 503)
        #expect(record.error == unavailable)

        let attempts = try #require(record.attempts)
        #expect(attempts.map(\.id) == [41, 42, 43])
        #expect(attempts.map(\.number) == [1, 2, 3])
        #expect(attempts.map(\.outcome) == [.failed, .interrupted, .failed])
        #expect(attempts[0].error == unavailable)
        #expect(attempts[1].error == JobError(.interrupted, "the daemon stopped while this attempt ran"))
        #expect(attempts[2].error == unavailable)
        try expectTime(attempts[0].startedAt, "2026-11-25T14:25:04.123Z")
        try expectTime(attempts[0].finishedAt, "2026-11-25T14:25:05.250Z")
        try expectTime(attempts[1].startedAt, "2026-11-25T14:25:07.250Z")
        try expectTime(attempts[1].finishedAt, "2026-11-25T14:25:09.001Z")
        try expectTime(attempts[2].startedAt, "2026-11-25T14:25:12.500Z")
        try expectTime(attempts[2].finishedAt, "2026-11-25T14:25:12.999Z")
    }
}
