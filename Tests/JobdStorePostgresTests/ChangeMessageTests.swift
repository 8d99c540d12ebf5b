import Foundation
import JobdModel
import JobdStore
import Testing

@testable import JobdStorePostgres

/// The change feed's wire form between nodes: every change kind survives the trip, big
/// batches split under PostgreSQL's payload limit, and a node skips its own messages.
@Suite struct ChangeMessageTests {
    /// A compact, comparable rendering of changes.
    static func render(_ changes: [StoreChange]) -> [String] {
        changes.map { change in
            switch change {
            case .inserted(let ids, let uid): "inserted \(ids.map(\.rawValue)) uid \(uid.map(String.init) ?? "-")"
            case .finished(let f):
                "finished \(f.jobID) #\(f.attemptNumber) \(f.outcome) \(f.error?.code.rawValue ?? "-") "
                    + "\(f.error?.httpStatus.map(String.init) ?? "-") \(f.retryAt.map { "\($0.timeIntervalSince1970)" } ?? "-")"
            case .cancelled(let id, let uid): "cancelled \(id) uid \(uid.map(String.init) ?? "-")"
            case .requeued(let id, let uid): "requeued \(id) uid \(uid.map(String.init) ?? "-")"
            case .started(let attempts):
                "started "
                    + attempts.map { "\($0.jobID)#\($0.attemptNumber)/\($0.submitterUID.map(String.init) ?? "-")" }
                    .joined(separator: ",")
            case .rescued(let attempts):
                "rescued " + attempts.map { "\($0.jobID)#\($0.attemptNumber)" }.joined(separator: ",")
            case .cancelRequested(let id): "cancel requested \(id)"
            case .pauseChanged(let paused): "paused \(paused)"
            case .leaseLost: "lease lost"
            case .resynchronized: "resynchronized"
            case .schedulesChanged: "schedules changed"
            case .leadershipChanged(let leader): "leader \(leader)"
            case .dependencies(let transitions):
                "dependencies "
                    + transitions.map { transition in
                        let kind =
                            switch transition.kind {
                            case .waiting: "waiting"
                            case .released: "released"
                            case .failed(let parent, let state): "failed(\(parent) \(state.rawValue))"
                            }
                        return "\(transition.jobID) \(kind)/\(transition.submitterUID.map(String.init) ?? "-")"
                    }.joined(separator: ",")
            case .batchCompleted(let c):
                "batch \(c.batchID) \(c.state.rawValue) on_complete \(c.onCompleteID.map(\.description) ?? "-") uid \(c.submitterUID.map(String.init) ?? "-")"
            }
        }
    }

    @Test("every change kind arrives as it was sent, in order")
    func roundTrip() throws {
        let retry = Date(timeIntervalSince1970: 1_800_000_000.5)
        let changes: [StoreChange] = [
            .inserted([JobID(1), JobID(2), JobID(3), JobID(7)], submitterUID: 1000),
            .started([
                StartedAttempt(jobID: JobID(1), attemptNumber: 1, submitterUID: 1000),
                StartedAttempt(jobID: JobID(2), attemptNumber: 2, submitterUID: nil),
            ]),
            .finished(
                FinishedAttempt(
                    jobID: JobID(1), attemptNumber: 1, outcome: .failed,
                    error: JobError(.httpStatus, "503", httpStatus: 503), retryAt: retry, submitterUID: 1000)),
            .cancelled(JobID(3), submitterUID: nil),
            .requeued(JobID(7), submitterUID: 5),
            .rescued([
                FinishedAttempt(jobID: JobID(2), attemptNumber: 2, outcome: .interrupted),
                FinishedAttempt(jobID: JobID(9), attemptNumber: 1, outcome: .interrupted),
            ]),
            .cancelRequested(JobID(4)),
            .pauseChanged(true),
            .pauseChanged(false),
            .batchCompleted(
                BatchCompletion(batchID: BatchID(3), state: .failed, onCompleteID: JobID(12), submitterUID: 7)),
            .batchCompleted(
                BatchCompletion(batchID: BatchID(4), state: .succeeded, onCompleteID: nil, submitterUID: nil)),
            .dependencies([
                DependencyTransition(jobID: JobID(20), kind: .waiting, submitterUID: 7),
                DependencyTransition(jobID: JobID(21), kind: .waiting, submitterUID: 7),
                DependencyTransition(jobID: JobID(23), kind: .waiting, submitterUID: nil),
                DependencyTransition(jobID: JobID(20), kind: .released, submitterUID: 7),
                DependencyTransition(
                    jobID: JobID(21), kind: .failed(parent: JobID(3), parentState: .failed), submitterUID: 7),
                DependencyTransition(
                    jobID: JobID(22), kind: .failed(parent: JobID(21), parentState: .cancelled), submitterUID: 7),
            ]),
        ]
        let payloads = ChangeMessage.payloads(changes, origin: "node-a")
        #expect(payloads.count == 1)
        let received = payloads.flatMap { ChangeMessage.changes(of: $0, skipping: "node-b") ?? [] }
        #expect(Self.render(received) == Self.render(changes))
        #expect(ChangeMessage.changes(of: payloads[0], skipping: "node-a") == nil, "a node skips its own messages")
        #expect(ChangeMessage.payloads([.leaseLost, .resynchronized], origin: "a").isEmpty, "local changes stay local")
    }

    @Test("error messages with quotes, backslashes, control characters and emoji survive the hand-written JSON")
    func escaping() throws {
        let message = "a \"quoted\" \\ path\nline\ttab\u{01}\u{1F}end 🚀 é"
        let change = StoreChange.finished(
            FinishedAttempt(jobID: JobID(5), attemptNumber: 2, outcome: .failed, error: JobError(.jobFailed, message)))
        let payloads = ChangeMessage.payloads([change], origin: "node \"x\"")
        let received = try #require(ChangeMessage.changes(of: payloads[0], skipping: "other"))
        guard case .finished(let finish) = received.first else {
            Issue.record("\(received)")
            return
        }
        #expect(finish.error?.message == message)
        #expect(ChangeMessage.changes(of: payloads[0], skipping: "node \"x\"") == nil)
    }

    @Test("10,000 finishes split into payloads under 7,900 bytes and arrive whole, in order")
    func splitsUnderTheLimit() throws {
        let long = String(repeating: "é", count: 400)
        let finishes = (1...10_000).map { index in
            StoreChange.finished(
                FinishedAttempt(
                    jobID: JobID(Int64(index)), attemptNumber: 1, outcome: .failed,
                    error: JobError(.jobFailed, index % 100 == 0 ? long : "boom")))
        }
        let payloads = ChangeMessage.payloads(finishes, origin: "o")
        #expect(payloads.count > 1)
        #expect(payloads.allSatisfy { $0.utf8.count <= ChangeMessage.maxPayload })
        let received = payloads.flatMap { ChangeMessage.changes(of: $0, skipping: "other") ?? [] }
        #expect(received.count == 10_000)
        #expect(Self.render(received) == Self.render(finishes).map { $0 })
    }

    @Test("10,000 releases split into payloads under 7,900 bytes and arrive whole; contiguous ones are one range")
    func dependencyTransitionsSplit() throws {
        // Every other id, two submitters, and a failed run: no two neighbours merge.
        let scattered = (0..<10_000).map { (index: Int) -> DependencyTransition in
            let id = JobID(Int64(9_000_000_000_000_000 + 2 * index))
            let uid: UInt32? = index % 3 == 0 ? nil : 4_294_967_295
            guard index % 7 == 0 else { return DependencyTransition(jobID: id, kind: .released, submitterUID: uid) }
            let parent = JobID(Int64(9_100_000_000_000_000 + index))
            return DependencyTransition(
                jobID: id, kind: .failed(parent: parent, parentState: .cancelled), submitterUID: uid)
        }
        let payloads = ChangeMessage.payloads([.dependencies(scattered)], origin: UUID().uuidString)
        #expect(payloads.count > 1)
        #expect(payloads.allSatisfy { $0.utf8.count <= ChangeMessage.maxPayload })
        let received = payloads.flatMap { ChangeMessage.changes(of: $0, skipping: "other") ?? [] }
        let transitions = received.flatMap { change -> [DependencyTransition] in
            if case .dependencies(let list) = change { list } else { [] }
        }
        #expect(transitions == scattered)
        let together = (1...10_000).map { DependencyTransition(jobID: JobID($0), kind: .released, submitterUID: 7) }
        let one = ChangeMessage.payloads([.dependencies(together)], origin: "n")
        #expect(one == [#"{"o":"n","c":[{"t":"d","u":7,"r":[[1,10000]],"s":"released"}]}"#])
    }

    /// Documents that either reader might meet: the hand-written reader must agree with
    /// `JSONDecoder` on each (both refuse, or both read the same message).
    static let documents: [String] = [
        #"{"o":"n1","c":[]}"#,
        #"{"c":[{"t":"b","j":1,"a":2,"u":1000}],"o":"n1"}"#,
        #" { "o" : "n1" , "c" : [ { "t" : "i" , "r" : [ [ 1 , 5 ] , [7,7] ] } ] } "#,
        #"{"o":"n1","c":[{"t":"f","j":9,"a":1,"s":"failed","ec":"http_status","em":"a\"b\\c\/d\n\u00e9\ud83d\ude80","eh":503,"ra":1764800000.25}]}"#,
        #"{"o":"n1","c":[{"t":"p","p":true,"u":null,"later":{"x":[1,2,{"y":null}],"z":"w"}}],"extra":[true,false,-1.5e3]}"#,
        #"{"o":"n1","c":[{"t":"f","j":1,"a":1,"s":"succeeded","ra":5}]}"#,
        #"{"o":"n1","c":[{"t":"x","j":-3}]}"#,
        #"{"o":"n1","c":[{"t":"b","j":1,"a":1,"u":-1}]}"#,  // a uid below zero
        #"{"o":"n1","c":[{"t":"b","j":1,"a":1,"u":4294967296}]}"#,  // a uid past UInt32
        #"{"o":"db","c":[{"t":"k","b":1,"s":"failed","j":3,"u":7}]}"#,  // the batch trigger's
        #"{"o":"db","c":[{"t":"k","b":2,"s":"succeeded"}]}"#,
        #"{"o":"db","c":[{"t":"k","b":"2","s":"succeeded"}]}"#,  // a string for a batch id
        #"{"o":"db","c":[{"t":"d","s":"failed","r":[[5,5]],"j":4,"ps":"cancelled","u":7}]}"#,  // the commit trigger's
        #"{"o":"n1","c":[{"t":"d","u":7,"r":[[1,3],[9,9]],"s":"released"},{"t":"d","r":[[4,4]],"s":"waiting"}]}"#,
        #"{"o":"n1","c":[{"t":"d","r":[[5,5]],"s":"failed","j":4,"ps":7}]}"#,  // a number for a parent's state
        #"{"o":"n1","c":[{"t":"d","r":[[5,5]],"s":"failed","ps":null}]}"#,
        #"{"o":"n1","c":[{"t":"b","j":"1"}]}"#,  // a string for a number
        #"{"o":"n1","c":[{"j":1}]}"#,  // no type
        #"{"o":null,"c":[]}"#,
        #"{"c":[]}"#,
        #"{"o":"n1"}"#,
        #"{"o":"n1","c":[]} x"#,  // trailing bytes
        "{\"o\":\"n1\",\"c\":[{\"t\":\"b\",\"em\":\"tab\u{09}inside\"}]}",  // a raw control character
        #"{"o":"n1","c":[{"t":"b","em":"\ud83d"}]}"#,  // a lone surrogate
        #"{"o":"n1","c":[{"t":"b","j":01}]}"#,
        #"{"o":"n1","c":[{"t":"b","j":1.}]}"#,
        #"{"o":"n1","c":[{"t":"b","j":1,"#,
        "",
    ]

    @Test("the hand-written reader agrees with JSONDecoder on every document", arguments: Self.documents)
    func readerAgreesWithJSONDecoder(document: String) {
        let byHand = ChangeMessage.parse(document)
        let byDecoder = try? JSONDecoder().decode(ChangeMessage.self, from: Data(document.utf8))
        #expect((byHand == nil) == (byDecoder == nil), "hand: \(String(describing: byHand))")
        if let byHand, let byDecoder {
            #expect(byHand.o == byDecoder.o)
            #expect(byHand.c.map(\.json) == byDecoder.c.map(\.json))
        }
    }

    @Test("a trailing comma, which JSONDecoder lets through, is refused: no node writes one")
    func trailingCommaIsRefused() {
        #expect(ChangeMessage.parse(#"{"o":"n1","c":[],}"#) == nil)
        #expect(ChangeMessage.parse(#"{"o":"n1","c":[{"t":"b",}]}"#) == nil)
    }

    @Test("every payload this node writes reads back as it was written, by hand")
    func writtenPayloadsReadBack() throws {
        let changes: [StoreChange] = [
            .inserted((1...3).map { JobID($0) } + [JobID(9)], submitterUID: 7),
            .started([StartedAttempt(jobID: JobID(1), attemptNumber: 1, submitterUID: nil)]),
            .finished(
                FinishedAttempt(
                    jobID: JobID(2), attemptNumber: 3, outcome: .failed,
                    error: JobError(.httpStatus, "\u{0}\u{7F} \"q\" 🚀", httpStatus: 502),
                    retryAt: Date(timeIntervalSince1970: 1_764_800_000.125), submitterUID: 4_294_967_295)),
            .pauseChanged(false), .cancelRequested(JobID(5)),
            .dependencies([
                DependencyTransition(
                    jobID: JobID(6), kind: .failed(parent: JobID(2), parentState: .failed), submitterUID: nil)
            ]),
        ]
        for payload in ChangeMessage.payloads(changes, origin: "n\\1") {
            let byHand = try #require(ChangeMessage.parse(payload))
            let byDecoder = try JSONDecoder().decode(ChangeMessage.self, from: Data(payload.utf8))
            #expect(byHand.o == "n\\1")
            #expect(byHand.c.map(\.json) == byDecoder.c.map(\.json))
        }
    }

    /// What the batch trigger of migration version 4 sends (`PostgresMigrations.batches`),
    /// byte for byte, for an end that queued `on_complete` and for one that did not.
    static let triggerPayloads: [(String, BatchCompletion)] = [
        (
            #"{"o":"db","c":[{"t":"k","b":41,"s":"failed","j":1207,"u":1000}]}"#,
            BatchCompletion(batchID: BatchID(41), state: .failed, onCompleteID: JobID(1207), submitterUID: 1000)
        ),
        (
            #"{"o":"db","c":[{"t":"k","b":42,"s":"succeeded"}]}"#,
            BatchCompletion(batchID: BatchID(42), state: .succeeded, onCompleteID: nil, submitterUID: nil)
        ),
    ]

    @Test("the batch trigger's notification reads as one batchCompleted, by hand and by JSONDecoder alike")
    func triggerPayloadReads() throws {
        for (payload, completion) in Self.triggerPayloads {
            let byHand = try #require(ChangeMessage.parse(payload))
            let byDecoder = try JSONDecoder().decode(ChangeMessage.self, from: Data(payload.utf8))
            #expect(byHand.o == "db" && byDecoder.o == "db")
            #expect(byHand.c.map(\.json) == byDecoder.c.map(\.json))
            #expect(byHand.c.first?.b == completion.batchID.rawValue)
            // Every node hears it, the one that wrote the end too: its origin is a UUID.
            let received = try #require(ChangeMessage.changes(of: payload, skipping: UUID().uuidString))
            #expect(Self.render(received) == Self.render([.batchCompleted(completion)]))
        }
    }
}

extension ChangeMessageTests {
    /// What the commit-time trigger of migration version 5 sends
    /// (`PostgresMigrations.dependencies`): one entry per transition, in level order.
    static let commitTriggerPayload =
        #"{"o":"db","c":[{"t":"d","s":"failed","r":[[5,5]],"j":4,"ps":"cancelled","u":7},"#
        + #"{"t":"d","s":"failed","r":[[6,6]],"j":5,"ps":"cancelled","u":7},{"t":"d","s":"released","r":[[7,7]]}]}"#

    @Test("the commit trigger's notification reads as one dependencies change, by hand and by JSONDecoder alike")
    func commitTriggerPayloadReads() throws {
        let payload = Self.commitTriggerPayload
        let byHand = try #require(ChangeMessage.parse(payload))
        let byDecoder = try JSONDecoder().decode(ChangeMessage.self, from: Data(payload.utf8))
        #expect(byHand.c.map(\.json) == byDecoder.c.map(\.json))
        let received = try #require(ChangeMessage.changes(of: payload, skipping: UUID().uuidString))
        let expected: [StoreChange] = [
            .dependencies([
                DependencyTransition(
                    jobID: JobID(5), kind: .failed(parent: JobID(4), parentState: .cancelled), submitterUID: 7),
                DependencyTransition(
                    jobID: JobID(6), kind: .failed(parent: JobID(5), parentState: .cancelled), submitterUID: 7),
                DependencyTransition(jobID: JobID(7), kind: .released, submitterUID: nil),
            ])
        ]
        #expect(Self.render(received) == Self.render(expected))
    }
}
