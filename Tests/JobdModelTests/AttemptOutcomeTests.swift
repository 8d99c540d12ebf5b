import JobdModel
import Testing

@Suite struct AttemptOutcomeTests {
    @Test("every attempt outcome has its stable wire and SQL raw value")
    func rawValues() throws {
        let expected: [(AttemptOutcome, String)] = [
            (.running, "running"),
            (.succeeded, "succeeded"),
            (.failed, "failed"),
            (.cancelled, "cancelled"),
            (.interrupted, "interrupted"),
        ]
        #expect(expected.map(\.0) == AttemptOutcome.allCases)
        for (outcome, raw) in expected {
            #expect(outcome.rawValue == raw)
            #expect(try encodeToString(outcome) == "\"\(raw)\"")
            #expect(try decode(AttemptOutcome.self, from: "\"\(raw)\"") == outcome)
        }
    }
}
