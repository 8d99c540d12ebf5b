import Foundation
import JobdModel
import Testing

@Suite struct JobSummaryTests {
    /// The summary of `job-summary-fetch.json`.
    static func fetchSummary() throws -> JobSummary {
        JobSummary(
            id: 21, kind: .fetch,
            spec: JobSpec(.fetch(FetchSpec(url: "https://example.com/big.html")), tags: ["nightly"]),
            state: .succeeded, priority: 0, runAt: try utc("2026-11-25T14:25:04.120Z"), maxAttempts: 3,
            attemptCount: 1, createdAt: try utc("2026-11-25T14:25:04.120Z"),
            updatedAt: try utc("2026-11-25T14:25:05.250Z"), finishedAt: try utc("2026-11-25T14:25:05.250Z"),
            submitterUID: 1000, error: nil, batchID: 4,
            result: ResultSummary(bytes: 7_340_032, contentType: "text/html; charset=utf-8", status: 200))
    }

    /// The summary of `job-summary-delay-failed.json`.
    static func failedDelaySummary() throws -> JobSummary {
        JobSummary(
            id: 22, kind: .delay, spec: JobSpec(.delay(DelaySpec(seconds: 1, fail: "boom"))), state: .failed,
            priority: 0, runAt: try utc("2026-11-25T14:25:04.120Z"), maxAttempts: 1, attemptCount: 1,
            createdAt: try utc("2026-11-25T14:25:04.120Z"), updatedAt: try utc("2026-11-25T14:25:05.250Z"),
            finishedAt: try utc("2026-11-25T14:25:05.250Z"), submitterUID: nil,
            error: JobError(.jobFailed, "boom"), batchID: nil, result: nil)
    }

    /// The production encoder, pretty-printed as the fixtures are.
    static func pretty(_ value: some Encodable) throws -> String {
        let encoder = JSONCoding.makeEncoder()
        encoder.outputFormatting.insert(.prettyPrinted)
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    @Test(
        "a summary encodes exactly as its golden file and decodes back",
        arguments: ["job-summary-fetch.json", "job-summary-delay-failed.json"])
    func golden(file: String) throws {
        let summary = try file == "job-summary-fetch.json" ? Self.fetchSummary() : Self.failedDelaySummary()
        let text = String(decoding: try fixtureData(file), as: UTF8.self)
        #expect(try Self.pretty(summary) == text.trimmingCharacters(in: .newlines))
        #expect(try JSONCoding.makeDecoder().decode(JobSummary.self, from: Data(text.utf8)) == summary)
    }

    @Test("a record's summary describes its result by size, type and status, and carries no body")
    func fromRecord() throws {
        var record = try JobRecordTests.fullRecord()
        let body = String(repeating: "x", count: 100_000)
        record.result = .fetch(
            FetchResult(
                status: 200, headers: ["content-type": "text/plain"], body: body, bodyEncoding: .utf8,
                size: 100_000, elapsedMs: 1, finalURL: "https://example.com/a"))
        let summary = JobSummary(record)
        #expect(summary.result == ResultSummary(bytes: 100_000, contentType: "text/plain", status: 200))
        #expect(summary.id == record.id && summary.state == record.state && summary.error == record.error)
        let text = try encodeToString(summary)
        #expect(!text.contains("xxxx"), "the body leaked into the summary")
        #expect(text.utf8.count < 2_000)
        let keys = try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]).keys
        #expect(!keys.contains("result") && !keys.contains("attempts"))
    }

    @Test("a delay's value is its result: described, and left out of the summary's spec")
    func delayValue() throws {
        let value: JSONValue = .object(["a": .array([1, 2])])
        let record = JobRecord(
            id: 3, kind: .delay, spec: JobSpec(.delay(DelaySpec(seconds: 0, value: value))), state: .succeeded,
            priority: 0, runAt: try utc("2026-01-01T00:00:00Z"), maxAttempts: 1, attemptCount: 1,
            createdAt: try utc("2026-01-01T00:00:00Z"), updatedAt: try utc("2026-01-01T00:00:00Z"),
            finishedAt: try utc("2026-01-01T00:00:00Z"), submitterUID: nil,
            result: .delay(DelayResult(value: value)), error: nil, attempts: nil)
        let summary = JobSummary(record)
        #expect(summary.spec == JobSpec(.delay(DelaySpec(seconds: 0))))
        #expect(
            summary.result
                == ResultSummary(bytes: #"{"a":[1,2]}"#.utf8.count, contentType: "application/json", status: nil))
    }

    @Test("a fetch without Content-Type is application/octet-stream; a base64 body counts its decoded bytes")
    func fetchDefaults() {
        let result = JobResult.fetch(
            FetchResult(
                status: 404, headers: [:], body: "AAEC", bodyEncoding: .base64, size: 3, elapsedMs: 1,
                finalURL: "http://x/"))
        #expect(ResultSummary(result) == ResultSummary(bytes: 3, contentType: "application/octet-stream", status: 404))
    }
}
