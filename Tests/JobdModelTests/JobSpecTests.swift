import Foundation
import JobdModel
import Testing

@Suite struct JobSpecTests {
    @Test("a fetch spec with headers and a body cap survives a round trip")
    func fetchRoundTrip() throws {
        let spec = JobSpec(
            .fetch(
                FetchSpec(
                    url: "https://example.com/api/items?page=2",
                    headers: ["Accept": "application/json", "X-Request-Id": "abc-123"],
                    maxBodyBytes: 65536)))
        #expect(try roundTrip(spec) == spec)
        #expect(spec.kind == .fetch)
    }

    @Test("a delay spec carrying every JSON value case survives a round trip")
    func delayRoundTrip() throws {
        let value: JSONValue = .object([
            "null": .null,
            "bool": .bool(true),
            "int": .int(-42),
            "big": .int(9_007_199_254_740_993),
            "double": .double(1.5),
            "string": .string("Data 1 ✓"),
            "array": .array([.null, .bool(false), .int(1), .double(-0.25), .string(""), .array([]), .object([:])]),
            "object": .object(["nested": .object(["deeper": .string("yes")])]),
        ])
        let spec = JobSpec(.delay(DelaySpec(seconds: 2.5, value: value, fail: "boom")))
        #expect(try roundTrip(spec) == spec)
        #expect(spec.kind == .delay)
    }

    @Test("every common field, run_at included, survives a round trip")
    func commonFieldsRoundTrip() throws {
        let spec = JobSpec(
            .delay(DelaySpec(seconds: 0)),
            timeout: 12.5, maxAttempts: 7, priority: -3,
            runAt: try utc("2026-11-25T14:25:04.500Z"),
            onInterrupt: .fail, key: "nightly-report-2026-11-25")
        #expect(try roundTrip(spec) == spec)
    }

    @Test("a delay spec encodes as one flat object with snake_case keys")
    func delayGoldenJSON() throws {
        let spec = JobSpec(
            .delay(DelaySpec(seconds: 1.5, value: "Data 1")),
            timeout: 10, maxAttempts: 3, priority: 5,
            runAt: try utc("2026-11-25T14:25:04Z"),
            onInterrupt: .retry, key: "k1")
        #expect(
            try encodeToString(spec)
                == #"{"key":"k1","kind":"delay","max_attempts":3,"on_interrupt":"retry","priority":5,"run_at":"2026-11-25T14:25:04.000Z","seconds":1.5,"timeout":10,"value":"Data 1"}"#
        )
    }

    @Test("tags and key_window survive a round trip and encode as snake_case, tags in their order")
    func tagsAndWindowGoldenJSON() throws {
        let spec = JobSpec(
            .delay(DelaySpec(seconds: 0)), key: "nightly", tags: ["team:x", "a"], keyWindow: 3600)
        #expect(try roundTrip(spec) == spec)
        #expect(
            try encodeToString(spec)
                == #"{"key":"nightly","key_window":3600,"kind":"delay","seconds":0,"tags":["team:x","a"]}"#)
        let decoded = try decode(
            JobSpec.self, from: #"{"kind":"delay","seconds":0,"key":"k","key_window":1.5,"tags":["b"]}"#)
        #expect(decoded.tags == ["b"] && decoded.keyWindow == 1.5)
    }

    @Test("isValidTag: 1 to 64 of A-Z a-z 0-9 _ . : -, nothing else")
    func tagCharacters() {
        for good in ["a", "Z9", "team:payments", "batch-2026.11", "v1_2", String(repeating: "x", count: 64)] {
            #expect(JobSpec.isValidTag(good), "\(good)")
        }
        for bad in ["", " ", "a b", "a/b", "a,b", "ä", "a\n", "#x", String(repeating: "x", count: 65)] {
            #expect(!JobSpec.isValidTag(bad), "\(bad.debugDescription)")
        }
    }

    @Test("a fetch spec encodes url, headers and max_body_bytes at the top level")
    func fetchGoldenJSON() throws {
        let spec = JobSpec(.fetch(FetchSpec(url: "http://127.0.0.1:8080/x", headers: ["A": "b"], maxBodyBytes: 10)))
        #expect(
            try encodeToString(spec)
                == #"{"headers":{"A":"b"},"kind":"fetch","max_body_bytes":10,"url":"http://127.0.0.1:8080/x"}"#)
    }

    @Test("absent optional fields are omitted, not encoded as null")
    func minimalGoldenJSON() throws {
        #expect(try encodeToString(JobSpec(.delay(DelaySpec(seconds: 3)))) == #"{"kind":"delay","seconds":3}"#)
        #expect(
            try encodeToString(JobSpec(.fetch(FetchSpec(url: "https://example.com"))))
                == #"{"kind":"fetch","url":"https://example.com"}"#)
    }

    @Test("a minimal wire spec decodes with every common field nil")
    func minimalDecode() throws {
        let spec = try decode(JobSpec.self, from: #"{"kind":"fetch","url":"https://example.com"}"#)
        #expect(spec == JobSpec(.fetch(FetchSpec(url: "https://example.com"))))
        #expect(spec.timeout == nil && spec.maxAttempts == nil && spec.priority == nil)
        #expect(spec.runAt == nil && spec.onInterrupt == nil && spec.key == nil)
    }

    @Test("run_at accepts an RFC 3339 offset and means the same instant")
    func runAtWithOffset() throws {
        let spec = try decode(JobSpec.self, from: #"{"kind":"delay","seconds":1,"run_at":"2026-11-25T16:25:04+02:00"}"#)
        #expect(spec.runAt == (try utc("2026-11-25T14:25:04Z")))
    }
}
