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
}
