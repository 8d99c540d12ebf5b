import JobdModel
import Testing

@Suite struct JobStateTests {
    @Test("every state has its stable wire, SQL and CLI raw value")
    func rawValues() throws {
        let expected: [(JobState, String)] = [
            (.waiting, "waiting"),
            (.queued, "queued"),
            (.running, "running"),
            (.succeeded, "succeeded"),
            (.failed, "failed"),
            (.cancelled, "cancelled"),
        ]
        #expect(expected.map(\.0) == JobState.allCases)
        for (state, raw) in expected {
            #expect(state.rawValue == raw)
            #expect(try encodeToString(state) == "\"\(raw)\"")
            #expect(try decode(JobState.self, from: "\"\(raw)\"") == state)
        }
    }

    @Test("an unknown state string does not decode")
    func unknownStateFails() {
        #expect(throws: DecodingError.self) { try decode(JobState.self, from: #""done""#) }
        #expect(throws: DecodingError.self) { try decode(JobState.self, from: #""Queued""#) }
    }

    @Test("only succeeded, failed and cancelled are terminal")
    func terminalStates() {
        let table: [(JobState, Bool)] = [
            (.waiting, false), (.queued, false), (.running, false), (.succeeded, true), (.failed, true),
            (.cancelled, true),
        ]
        for (state, terminal) in table {
            #expect(state.isTerminal == terminal, "\(state)")
        }
    }

    /// Every (from, to) pair, legal or not: 6 × 6 = 36 rows.
    static let transitions: [(from: JobState, to: JobState, legal: Bool)] = [
        (.waiting, .waiting, false),
        (.waiting, .queued, true),
        (.waiting, .running, false),
        (.waiting, .succeeded, false),
        (.waiting, .failed, false),
        (.waiting, .cancelled, true),

        (.queued, .waiting, false),
        (.queued, .queued, false),
        (.queued, .running, true),
        (.queued, .succeeded, false),
        (.queued, .failed, false),
        (.queued, .cancelled, true),

        (.running, .waiting, false),
        (.running, .queued, true),
        (.running, .running, false),
        (.running, .succeeded, true),
        (.running, .failed, true),
        (.running, .cancelled, true),

        (.succeeded, .waiting, false),
        (.succeeded, .queued, true),
        (.succeeded, .running, false),
        (.succeeded, .succeeded, false),
        (.succeeded, .failed, false),
        (.succeeded, .cancelled, false),

        (.failed, .waiting, false),
        (.failed, .queued, true),
        (.failed, .running, false),
        (.failed, .succeeded, false),
        (.failed, .failed, false),
        (.failed, .cancelled, false),

        (.cancelled, .waiting, false),
        (.cancelled, .queued, true),
        (.cancelled, .running, false),
        (.cancelled, .succeeded, false),
        (.cancelled, .failed, false),
        (.cancelled, .cancelled, false),
    ]

    @Test("the transition table covers all 36 pairs exactly once")
    func tableIsComplete() {
        #expect(Self.transitions.count == 36)
        for from in JobState.allCases {
            for to in JobState.allCases {
                #expect(Self.transitions.filter { $0.from == from && $0.to == to }.count == 1, "\(from) → \(to)")
            }
        }
    }

    @Test("canMove(to:) allows exactly the lifecycle steps", arguments: JobStateTests.transitions)
    func canMove(from: JobState, to: JobState, legal: Bool) {
        #expect(from.canMove(to: to) == legal, "\(from) → \(to)")
    }
}
