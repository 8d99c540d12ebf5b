import JobdModel
import Testing

@Suite struct InterruptPolicyTests {
    @Test("every interrupt policy has its stable wire and SQL raw value")
    func rawValues() throws {
        let expected: [(InterruptPolicy, String)] = [(.retry, "retry"), (.fail, "fail")]
        #expect(expected.map(\.0) == InterruptPolicy.allCases)
        for (policy, raw) in expected {
            #expect(policy.rawValue == raw)
            #expect(try encodeToString(policy) == "\"\(raw)\"")
            #expect(try decode(InterruptPolicy.self, from: "\"\(raw)\"") == policy)
        }
    }
}
