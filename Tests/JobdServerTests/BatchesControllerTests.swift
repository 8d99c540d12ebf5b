import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JobdModel
import JobdRuntime
import JobdServer
import JobdStore
import NIOCore
import Testing

/// `/v1/batches` through the router: status codes, error bodies, ownership.
@Suite struct BatchesControllerTests {
    static func create(
        _ client: any TestClientProtocol, as peer: PeerCredentials, _ body: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> CreateBatchResponse {
        let response = try await client.executeRequest(
            uri: "/v1/batches", method: .post, headers: TestPeer.headers(peer), body: json(body))
        #expect(response.status == .created, "\(String(buffer: response.body))", sourceLocation: sourceLocation)
        return try response.decode(CreateBatchResponse.self)
    }

    static let twoDelays = #"{"jobs":[{"kind":"delay","seconds":60},{"kind":"delay","seconds":60}],"label":"two"}"#

    @Test("create answers 201 with the ids; get shows the batch; wait with timeout 0 has no results yet")
    func createAndRead() async throws {
        try await withTestAPI { client, dispatcher in
            try await dispatcher.pause()
            let created = try await Self.create(
                client, as: TestPeer.alice,
                #"{"jobs":[{"kind":"delay","seconds":60}],"on_complete":{"kind":"delay","seconds":0}}"#)
            #expect(created.jobIDs.count == 1 && created.onCompleteID != nil)
            let got = try await client.executeRequest(
                uri: "/v1/batches/\(created.id)", method: .get, headers: TestPeer.headers(TestPeer.alice), body: nil)
            let record = try got.decode(BatchRecord.self)
            #expect(record.state == .running && record.jobIDs == created.jobIDs && record.counts.queued == 1)
            #expect(record.submitterUID == TestPeer.alice.uid)
            let waited = try await client.executeRequest(
                uri: "/v1/batches/\(created.id)/wait?timeout=0", method: .get,
                headers: TestPeer.headers(TestPeer.alice), body: nil)
            let answer = try waited.decode(BatchWaitResponse.self)
            #expect(answer.results == nil && answer.batch.state == .running)
            let onComplete = try #require(created.onCompleteID)
            let job = try await client.executeRequest(
                uri: "/v1/jobs/\(onComplete)", method: .get, headers: TestPeer.headers(TestPeer.alice), body: nil)
            #expect(try job.decode(JobRecord.self).state == .waiting)
        }
    }

    @Test("a bad batch is 400 with the field; too many jobs is 413; a bad query is 400")
    func refusals() async throws {
        try await withTestAPI { client, _ in
            let keyed = try await client.executeRequest(
                uri: "/v1/batches", method: .post, headers: TestPeer.headers(TestPeer.alice),
                body: json(#"{"jobs":[{"kind":"delay","seconds":1},{"kind":"delay","seconds":1,"key":"k"}]}"#))
            #expect(keyed.status == .badRequest)
            #expect(try keyed.apiError().field == "jobs[1].key")
            let many = (0..<11).map { _ in #"{"kind":"delay","seconds":1}"# }.joined(separator: ",")
            let tooMany = try await client.executeRequest(
                uri: "/v1/batches", method: .post, headers: TestPeer.headers(TestPeer.alice),
                body: json(#"{"jobs":[\#(many)]}"#))
            #expect(tooMany.status == .contentTooLarge)
            #expect(try tooMany.apiError().code == .batchTooLarge)
            let query = try await client.executeRequest(
                uri: "/v1/batches?state=done", method: .get, headers: TestPeer.headers(TestPeer.alice), body: nil)
            #expect(query.status == .badRequest)
            #expect(try query.apiError().field == "state")
        }
    }

    @Test(
        "another user's batch answers 404 batch_not_found to get, wait and cancel, as a missing one does",
        arguments: [(HTTPRequest.Method.get, ""), (.get, "/wait?timeout=0"), (.post, "/cancel")])
    func othersBatchesAreHidden(method: HTTPRequest.Method, suffix: String) async throws {
        try await withTestAPI { client, _ in
            let batch = try await Self.create(client, as: TestPeer.alice, Self.twoDelays)
            let hidden = try await client.executeRequest(
                uri: "/v1/batches/\(batch.id)\(suffix)", method: method, headers: TestPeer.headers(TestPeer.bob),
                body: nil)
            #expect(hidden.status == .notFound)
            #expect(try hidden.apiError() == APIError(.batchNotFound, "no batch has id \(batch.id)"))
            let missing = try await client.executeRequest(
                uri: "/v1/batches/999\(suffix)", method: method, headers: TestPeer.headers(TestPeer.bob), body: nil)
            #expect(try missing.apiError() == APIError(.batchNotFound, "no batch has id 999"))
            // Lists show a user their own batches only; an admin sees all.
            let listed = try await client.executeRequest(
                uri: "/v1/batches", method: .get, headers: TestPeer.headers(TestPeer.bob), body: nil)
            #expect(try listed.decode(BatchListResponse.self).batches.isEmpty)
            let all = try await client.executeRequest(
                uri: "/v1/batches", method: .get, headers: TestPeer.headers(TestPeer.root), body: nil)
            #expect(try all.decode(BatchListResponse.self).batches.map(\.id) == [batch.id])
            // Nothing happened to it.
            let record = try await client.executeRequest(
                uri: "/v1/batches/\(batch.id)", method: .get, headers: TestPeer.headers(TestPeer.alice), body: nil)
            #expect(try record.decode(BatchRecord.self).counts.cancelled == 0)
        }
    }

    @Test("cancel cancels the queued jobs; the batch ends failed; wait answers every result in order")
    func cancelEndsTheBatch() async throws {
        try await withTestAPI { client, dispatcher in
            try await dispatcher.pause()
            let batch = try await Self.create(client, as: TestPeer.alice, Self.twoDelays)
            let cancelled = try await client.executeRequest(
                uri: "/v1/batches/\(batch.id)/cancel", method: .post, headers: TestPeer.headers(TestPeer.alice),
                body: nil)
            #expect(
                try cancelled.decode(BatchCancelResponse.self)
                    == BatchCancelResponse(id: batch.id, cancelled: 2, stopping: 0))
            let waited = try await client.executeRequest(
                uri: "/v1/batches/\(batch.id)/wait?timeout=5", method: .get,
                headers: TestPeer.headers(TestPeer.alice), body: nil)
            let answer = try waited.decode(BatchWaitResponse.self)
            #expect(answer.batch.state == .failed)
            #expect(answer.results?.map(\.id) == batch.jobIDs)
            #expect(answer.results?.allSatisfy { $0.state == .cancelled && $0.error?.code == .cancelled } == true)
        }
    }

    @Test("after naming an unknown job or another user's is 400 invalid_spec with the entry's field")
    func unknownParents() async throws {
        try await withTestAPI { client, dispatcher in
            try await dispatcher.pause()
            let alices = try await AccessTests.submit(client, as: TestPeer.alice)
            for (body, field) in [
                (#"{"kind":"delay","seconds":0,"after":[\#(alices.id)]}"#, "after[0]"),
                (#"{"kind":"delay","seconds":0,"after":[987654]}"#, "after[0]"),
                (
                    #"{"jobs":[{"kind":"delay","seconds":0},{"kind":"delay","seconds":0,"after":["@0",987654]}]}"#,
                    "jobs[1].after[1]"
                ),
            ] {
                let refused = try await client.executeRequest(
                    uri: "/v1/jobs", method: .post, headers: TestPeer.headers(TestPeer.bob), body: json(body))
                #expect(refused.status == .badRequest, "\(body)")
                let error = try refused.apiError()
                #expect(error.code == .invalidSpec && error.field == field, "\(error)")
            }
            let own = try await client.executeRequest(
                uri: "/v1/jobs", method: .post, headers: TestPeer.headers(TestPeer.alice),
                body: json(#"{"kind":"delay","seconds":0,"after":[\#(alices.id)]}"#))
            #expect(own.status == .created)
            #expect(try own.decode(JobRecord.self).state == .waiting)
        }
    }
}
