import JobdModel
import Testing

@Suite struct JobKindTests {
    @Test("every job kind has its stable wire, SQL and CLI raw value")
    func rawValues() throws {
        let expected: [(JobKind, String)] = [(.fetch, "fetch"), (.delay, "delay")]
        #expect(expected.map(\.0) == JobKind.allCases)
        for (kind, raw) in expected {
            #expect(kind.rawValue == raw)
            #expect(try encodeToString(kind) == "\"\(raw)\"")
            #expect(try decode(JobKind.self, from: "\"\(raw)\"") == kind)
        }
    }

    @Test("a payload reports the kind it belongs to")
    func payloadKind() {
        #expect(JobPayload.fetch(FetchSpec(url: "https://example.com")).kind == .fetch)
        #expect(JobPayload.delay(DelaySpec(seconds: 1)).kind == .delay)
    }
}
