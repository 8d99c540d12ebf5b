import Foundation
import Hummingbird
import HummingbirdTesting
import JobdModel
import JobdServer
import Testing

/// Issue 13 on the wire: tags (`GET /v1/jobs?tag=`), `key_window`, and their errors.
@Suite struct SharingAPITests {
    @Test("GET /v1/jobs?tag= lists the caller's jobs with the tag, newest first; the record keeps its tags")
    func listByTag() async throws {
        try await withTestAPI { client, _ in
            for (peer, body) in [
                (TestPeer.alice, #"{"kind":"delay","seconds":1,"tags":["nightly","team:x"]}"#),
                (TestPeer.alice, #"{"kind":"delay","seconds":1,"tags":["team:x"]}"#),
                (TestPeer.bob, #"{"kind":"delay","seconds":1,"tags":["nightly"]}"#),
                (TestPeer.alice, #"{"jobs":[{"kind":"delay","seconds":1,"tags":["nightly"]}]}"#),
            ] {
                try await client.execute(
                    uri: "/v1/jobs", method: .post, headers: TestPeer.headers(peer), body: json(body)
                ) { response in
                    #expect(response.status == .created)
                }
            }
            try await client.execute(
                uri: "/v1/jobs?tag=nightly", method: .get, headers: TestPeer.headers(TestPeer.alice)
            ) { response in
                #expect(response.status == .ok)
                let page = try response.decode(JobListResponse.self)
                #expect(page.jobs.map(\.id) == [JobID(4), JobID(1)], "Bob's job 3 is not Alice's to see")
                #expect(page.jobs.last?.spec.tags == ["nightly", "team:x"])
            }
            try await client.execute(uri: "/v1/jobs?tag=nightly&limit=1", method: .get) { response in
                let page = try response.decode(JobListResponse.self)
                #expect(page.jobs.map(\.id) == [JobID(4)])
                #expect(page.nextAfter == JobID(4))
            }
            try await client.execute(uri: "/v1/jobs?tag=nightly&after=4", method: .get) { response in
                let page = try response.decode(JobListResponse.self)
                #expect(page.jobs.map(\.id) == [JobID(3), JobID(1)], "an admin sees every user's")
            }
        }
    }

    @Test("a malformed tag is 400: invalid_query naming tag in a list, invalid_spec naming tags[i] in a spec")
    func badTags() async throws {
        try await withTestAPI { client, _ in
            try await client.execute(uri: "/v1/jobs?tag=a%20b", method: .get) { response in
                #expect(response.status == .badRequest)
                let error = try response.apiError()
                #expect(error.code == .invalidQuery && error.field == "tag")
            }
            let cases = [
                (#"{"kind":"delay","seconds":1,"tags":["a","b","c/d"]}"#, "tags[2]"),
                (
                    #"{"jobs":[{"kind":"delay","seconds":1},{"kind":"delay","seconds":1,"tags":["x","x"]}]}"#,
                    "jobs[1].tags[1]"
                ),
                (#"{"kind":"delay","seconds":1,"key_window":5}"#, "key_window"),
            ]
            for (body, field) in cases {
                try await client.execute(uri: "/v1/jobs", method: .post, body: json(body)) { response in
                    #expect(response.status == .badRequest)
                    let error = try response.apiError()
                    #expect(error.code == .invalidSpec && error.field == field, "\(error)")
                }
            }
        }
    }

    @Test("a key with a window answers 201, then 200 with the same job while the window lasts")
    func keyWindowAnswers() async throws {
        try await withTestAPI { client, _ in
            let body = #"{"kind":"delay","seconds":1,"key":"daily","key_window":3600}"#
            var first: JobRecord?
            try await client.execute(uri: "/v1/jobs", method: .post, body: json(body)) { response in
                #expect(response.status == .created)
                first = try response.decode(JobRecord.self)
                #expect(first?.spec.keyWindow == 3600)
            }
            try await client.execute(uri: "/v1/jobs", method: .post, body: json(body)) { response in
                #expect(response.status == .ok)
                let again = try response.decode(JobRecord.self)
                #expect(again.id == first?.id)
            }
        }
    }
}
