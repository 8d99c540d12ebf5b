import Foundation
import JobdModel
import Testing

/// `JSONText.encode(_: JobRecord)`: the API's job record without `JSONEncoder`, byte for
/// byte what `JSONCoding.makeEncoder()` writes, or nil where only the encoder writes it so.
@Suite struct JSONTextRecordTests {
    static let t = Date(timeIntervalSince1970: 1_796_680_471.123_456)

    static func record(
        spec: JobSpec = JobSpec(.delay(DelaySpec(seconds: 1, value: "Data 1"))), state: JobState = .succeeded,
        result: JobResult? = nil, error: JobError? = nil, attempts: [JobAttempt]? = [], finished: Bool = true
    ) -> JobRecord {
        JobRecord(
            id: JobID(rawValue: 42), kind: spec.kind, spec: spec, state: state, priority: -3, runAt: t,
            maxAttempts: 3, attemptCount: attempts?.count ?? 0, createdAt: t.addingTimeInterval(-1),
            updatedAt: t.addingTimeInterval(2.000_4), finishedAt: finished ? t.addingTimeInterval(2) : nil,
            submitterUID: 1000, result: result, error: error, attempts: attempts)
    }

    static let attempts = [
        JobAttempt(
            id: 7, number: 1, startedAt: t, finishedAt: t.addingTimeInterval(0.5), outcome: .failed,
            error: JobError(.httpStatus, "HTTP 503 \"busy\"\n", httpStatus: 503), node: "node-é"),
        JobAttempt(
            id: 9, number: 2, startedAt: t.addingTimeInterval(1), finishedAt: nil, outcome: .interrupted, error: nil),
        JobAttempt(
            id: 11, number: 3, startedAt: t.addingTimeInterval(2), finishedAt: t.addingTimeInterval(3),
            outcome: .succeeded, error: nil),
    ]

    static var records: [JobRecord] {
        var all = [
            record(),
            record(result: .delay(DelayResult(value: "Data 1")), attempts: attempts),
            record(
                state: .failed, error: JobError(.jobFailed, "boom \\ / \u{07}"),
                attempts: [attempts[0]]),
            record(state: .queued, attempts: nil, finished: false),
            record(
                spec: JobSpec(
                    .fetch(FetchSpec(url: "http://127.0.0.1:8080/a?b=c", headers: ["X-A": "1"])), timeout: 10,
                    priority: 2, tags: ["t"]),
                result: .fetch(
                    FetchResult(
                        status: 200, headers: ["content-type": "text/html"], body: "<p>hi</p>", bodyEncoding: .utf8,
                        size: 9, elapsedMs: 0.000_01, finalURL: "http://127.0.0.1:8080/a?b=c")),
                attempts: [attempts[2]]),
            record(
                result: .delay(DelayResult(value: .object(["b": .array([1, "x", .null]), "a": true]))), attempts: []),
        ]
        var withEverything = record(state: .running, attempts: attempts, finished: false)
        withEverything.batchID = BatchID(rawValue: 5)
        withEverything.children = [JobID(rawValue: 43), JobID(rawValue: 44)]
        withEverything.rateLimit = RateLimitWait(host: "example.com:443", startsAt: t.addingTimeInterval(0.25))
        withEverything.submitterUID = nil
        all.append(withEverything)
        return all
    }

    @Test("the text is JSONEncoder's, byte for byte", arguments: records)
    func sameBytes(_ record: JobRecord) throws {
        let fast = try #require(JSONText.encode(record))
        let encoder = String(decoding: try JSONCoding.makeEncoder().encode(record), as: UTF8.self)
        #expect(fast == encoder)
    }

    @Test("a spec or a delay's value holding a fraction is left to the encoder")
    func leftToTheEncoder() {
        #expect(JSONText.encode(Self.record(spec: JobSpec(.delay(DelaySpec(seconds: 0.5))))) == nil)
        #expect(JSONText.encode(Self.record(result: .delay(DelayResult(value: .double(1.5))))) == nil)
    }

    @Test("random records: the same bytes as the encoder, or nil (seeded)")
    func randomRecords() throws {
        var generator = SeededGenerator(seed: 12)
        let encoder = JSONCoding.makeEncoder()
        var written = 0
        for _ in 0..<500 {
            let values: [JSONValue] = [.null, "text \"q\" \n é", 7, -1, true, .array([1, "a"]), .object(["k": "v"])]
            let value = values.randomElement(using: &generator)!
            let seconds = Double(Int.random(in: 0...100, using: &generator))
            var record = Self.record(
                spec: JobSpec(.delay(DelaySpec(seconds: seconds, value: value))),
                state: JobState.allCases.randomElement(using: &generator)!,
                result: Bool.random(using: &generator) ? .delay(DelayResult(value: value)) : nil,
                error: Bool.random(using: &generator) ? JobError(.timeout, "slow") : nil,
                attempts: Bool.random(using: &generator)
                    ? Array(Self.attempts.prefix(Int.random(in: 0...3, using: &generator))) : nil,
                finished: Bool.random(using: &generator))
            record.runAt = Date(timeIntervalSince1970: Double.random(in: 0...4_000_000_000, using: &generator))
            if Bool.random(using: &generator) {
                record.children = [JobID(rawValue: Int64.random(in: 1...1_000_000, using: &generator))]
            }
            if let fast = JSONText.encode(record) {
                #expect(fast == String(decoding: try encoder.encode(record), as: UTF8.self))
                written += 1
            }
        }
        #expect(written == 500, "every record of whole numbers is the writer's")
    }
}

/// A small deterministic generator (SplitMix64) for the random records.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
