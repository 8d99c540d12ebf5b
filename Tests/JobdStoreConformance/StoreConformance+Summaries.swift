import Foundation
import JobdModel
import JobdStore
import Testing

/// The cases of issue 14's list summaries: a list describes results, it never carries them.
extension StoreConformance {
    static let summaryCases: [ConformanceCase] = [
        ConformanceCase(
            name: "list describes each result by size, content type and status; job still answers the whole body",
            run: listSummaries)
    ]

    static func fetch(_ url: String, priority: Int) -> NewJob {
        NewJob(
            spec: JobSpec(.fetch(FetchSpec(url: url)), maxAttempts: 1, priority: priority), priority: priority,
            runAt: t0, maxAttempts: 1, timeout: nil, onInterrupt: .retry, submitterUID: nil)
    }

    static func listSummaries(_ store: any JobStore) async throws {
        // A body that holds what a stored result's body key looks like, and is longer
        // than the head an engine reads.
        let body = String(repeating: #"<p>,"body":"x"</p>"# + "\n", count: 20_000)
        let page = FetchResult(
            status: 200, headers: ["content-type": "text/html; charset=utf-8"], body: body, bodyEncoding: .utf8,
            size: body.utf8.count, elapsedMs: 12, finalURL: "http://127.0.0.1/page")
        // Headers longer than the head: the engine reads this one whole.
        let longHeaders = FetchResult(
            status: 200, headers: ["content-type": "text/plain", "etag": String(repeating: "e", count: 20_000)],
            body: "short", bodyEncoding: .utf8, size: 5, elapsedMs: 1, finalURL: "http://127.0.0.1/etag")
        let binary = FetchResult(
            status: 500, headers: [:], body: Data(repeating: 0xFF, count: 30_000).base64EncodedString(),
            bodyEncoding: .base64, size: 30_000, elapsedMs: 1, finalURL: "http://127.0.0.1/bin")
        let value: JSONValue = .object(["a": .array([1, 2]), "b": "Data 1"])
        let ids = try await store.insert(
            [
                fetch("http://127.0.0.1/page", priority: 9), fetch("http://127.0.0.1/etag", priority: 8),
                fetch("http://127.0.0.1/bin", priority: 7), delay(1, priority: 6), delay(2, priority: 0),
            ], now: t0
        ).map(\.id)
        let claims = try await store.claim(limit: 4, now: t0)
        #expect(claims.map(\.id) == Array(ids[0...3]))
        let ends: [AttemptEnd] = [
            .succeeded(.fetch(page)), .succeeded(.fetch(longHeaders)),
            .failed(
                JobError(.httpStatus, "the server answered 500", httpStatus: 500), result: .fetch(binary), retryAt: nil),
            .succeeded(.delay(DelayResult(value: value))),
        ]
        for (claim, end) in zip(claims, ends) {
            #expect(try await store.finish(AttemptFinish(attempt: claim.attempt, end: end), now: t0))
        }

        let listed = try await store.list(limit: 10)
        #expect(listed.map(\.id) == ids.reversed())
        let byID = Dictionary(uniqueKeysWithValues: listed.map { ($0.id, $0) })
        #expect(
            byID[ids[0]]?.result
                == ResultSummary(bytes: body.utf8.count, contentType: "text/html; charset=utf-8", status: 200))
        #expect(byID[ids[1]]?.result == ResultSummary(bytes: 5, contentType: "text/plain", status: 200))
        #expect(
            byID[ids[2]]?.result == ResultSummary(bytes: 30_000, contentType: "application/octet-stream", status: 500))
        #expect(byID[ids[2]]?.error?.code == .httpStatus)
        #expect(
            byID[ids[3]]?.result
                == ResultSummary(
                    bytes: #"{"a":[1,2],"b":"Data 1"}"#.utf8.count, contentType: "application/json", status: nil))
        #expect(byID[ids[3]]?.spec.payload == .delay(DelaySpec(seconds: 0)), "a delay's value is its result")
        #expect(byID[ids[4]]?.result == nil)
        #expect(byID[ids[4]]?.state == .queued)
        // Filters and the tag path describe results the same way.
        #expect(
            try await store.list(state: .succeeded, kind: .fetch, limit: 10).map(\.result) == [
                byID[ids[1]]?.result, byID[ids[0]]?.result,
            ])

        // The record still has the whole result.
        #expect(try await store.job(ids[0])?.result == .fetch(page))
        #expect(try await store.job(ids[2])?.result == .fetch(binary))
    }
}
