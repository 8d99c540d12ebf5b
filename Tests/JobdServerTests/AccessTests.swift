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

/// The access policy through the router: who is let in, who sees which jobs, who is an admin.
@Suite struct AccessTests {
    /// Submits a delay job as `peer` and returns its record.
    static func submit(
        _ client: any TestClientProtocol, as peer: PeerCredentials, key: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> JobRecord {
        let keyField = key.map { #","key":"\#($0)""# } ?? ""
        let response = try await client.executeRequest(
            uri: "/v1/jobs", method: .post, headers: TestPeer.headers(peer),
            body: json(#"{"kind":"delay","seconds":60\#(keyField)}"#))
        #expect(response.status == .created, "\(String(buffer: response.body))", sourceLocation: sourceLocation)
        return try response.decode(JobRecord.self)
    }

    /// The ids `GET /v1/jobs` lists for `peer`.
    static func listedIDs(_ client: any TestClientProtocol, as peer: PeerCredentials) async throws -> [JobID] {
        let response = try await client.executeRequest(
            uri: "/v1/jobs", method: .get, headers: TestPeer.headers(peer), body: nil)
        #expect(response.status == .ok)
        return try response.decode(JobListResponse.self).jobs.map(\.id)
    }

    @Test("a job records its submitter's uid")
    func submitterRecorded() async throws {
        try await withTestAPI { client, _ in
            let record = try await Self.submit(client, as: TestPeer.alice)
            #expect(record.submitterUID == TestPeer.alice.uid)
            let batch = try await client.executeRequest(
                uri: "/v1/jobs", method: .post, headers: TestPeer.headers(TestPeer.bob),
                body: json(#"{"jobs":[{"kind":"delay","seconds":1}]}"#))
            let id = try #require(try batch.decode(SubmitBatchResponse.self).ids.first)
            let stored = try await client.executeRequest(uri: "/v1/jobs/\(id)", method: .get, headers: [:], body: nil)
            #expect(try stored.decode(JobRecord.self).submitterUID == TestPeer.bob.uid)
        }
    }

    @Test(
        "another user's job answers 404 job_not_found to get, wait, result, cancel and retry, as a missing job does",
        arguments: [
            (HTTPRequest.Method.get, ""), (.get, "/wait?timeout=0"), (.get, "/wait?timeout=0.05"), (.get, "/result"),
            (.post, "/cancel"), (.post, "/retry"),
        ])
    func othersJobsAreHidden(method: HTTPRequest.Method, suffix: String) async throws {
        try await withTestAPI { client, _ in
            let job = try await Self.submit(client, as: TestPeer.alice)
            let hidden = try await client.executeRequest(
                uri: "/v1/jobs/\(job.id)\(suffix)", method: method, headers: TestPeer.headers(TestPeer.bob), body: nil)
            #expect(hidden.status == .notFound)
            #expect(try hidden.apiError() == APIError(.jobNotFound, "no job has id \(job.id)"))
            let missing = try await client.executeRequest(
                uri: "/v1/jobs/999\(suffix)", method: method, headers: TestPeer.headers(TestPeer.bob), body: nil)
            #expect(try missing.apiError() == APIError(.jobNotFound, "no job has id 999"))
            // Nothing happened to the job.
            let record = try await client.executeRequest(
                uri: "/v1/jobs/\(job.id)", method: .get, headers: TestPeer.headers(TestPeer.alice), body: nil)
            #expect(record.status == .ok)
            #expect(try record.decode(JobRecord.self).state == .queued)
        }
    }

    @Test("a user cancels and retries their own job")
    func ownJobActions() async throws {
        try await withTestAPI { client, _ in
            let job = try await Self.submit(client, as: TestPeer.alice)
            let alice = TestPeer.headers(TestPeer.alice)
            let cancel = try await client.executeRequest(
                uri: "/v1/jobs/\(job.id)/cancel", method: .post, headers: alice, body: nil)
            #expect(try cancel.decode(CancelResponse.self) == CancelResponse(id: job.id, state: .cancelled))
            let retry = try await client.executeRequest(
                uri: "/v1/jobs/\(job.id)/retry", method: .post, headers: alice, body: nil)
            #expect(retry.status == .ok)
            #expect(try retry.decode(JobRecord.self).state == .queued)
            let wait = try await client.executeRequest(
                uri: "/v1/jobs/\(job.id)/wait?timeout=0", method: .get, headers: alice, body: nil)
            #expect(try wait.decode(JobRecord.self).id == job.id)
        }
    }

    @Test("the list holds the caller's own jobs; admins and root list everyone's")
    func listFiltered() async throws {
        try await withTestAPI { client, _ in
            let a1 = try await Self.submit(client, as: TestPeer.alice).id
            let b1 = try await Self.submit(client, as: TestPeer.bob).id
            let a2 = try await Self.submit(client, as: TestPeer.alice).id
            #expect(try await Self.listedIDs(client, as: TestPeer.alice) == [a2, a1])
            #expect(try await Self.listedIDs(client, as: TestPeer.bob) == [b1])
            #expect(try await Self.listedIDs(client, as: TestPeer.daemon) == [a2, b1, a1])
            #expect(try await Self.listedIDs(client, as: TestPeer.root) == [a2, b1, a1])
            // Admins see and cancel any job.
            let cancel = try await client.executeRequest(
                uri: "/v1/jobs/\(b1)/cancel", method: .post, headers: TestPeer.headers(TestPeer.root), body: nil)
            #expect(cancel.status == .ok)
        }
    }

    @Test("a job with no recorded submitter is visible to admins only")
    func unownedJobs() async throws {
        try await withTestAPI { client, dispatcher in
            // Jobs stored before access control (or through the library) have no submitter.
            let id = try #require(try await dispatcher.submit([JobSpec(.delay(DelaySpec(seconds: 1)))]).first).id
            #expect(try await Self.listedIDs(client, as: TestPeer.alice).isEmpty)
            let hidden = try await client.executeRequest(
                uri: "/v1/jobs/\(id)", method: .get, headers: TestPeer.headers(TestPeer.alice), body: nil)
            #expect(hidden.status == .notFound)
            let shown = try await client.executeRequest(uri: "/v1/jobs/\(id)", method: .get, headers: [:], body: nil)
            #expect(shown.status == .ok)
        }
    }

    @Test(
        "pause, resume, prune, backup, vacuum and setting workers are admin-only; stats, health and reading workers are open",
        arguments: [
            (HTTPRequest.Method.post, "/v1/pause", "", true), (.post, "/v1/resume", "", true),
            (.post, "/v1/backup", "", true), (.post, "/v1/vacuum", "", true),
            (.post, "/v1/prune", #"{"older_than":0}"#, true), (.put, "/v1/workers", #"{"workers":4}"#, true),
            (.get, "/v1/workers", "", false), (.get, "/v1/stats", "", false), (.get, "/v1/health", "", false),
        ])
    func adminOnlyRoutes(method: HTTPRequest.Method, path: String, body: String, adminOnly: Bool) async throws {
        try await withTestAPI { client, _ in
            let user = try await client.executeRequest(
                uri: path, method: method, headers: TestPeer.headers(TestPeer.alice),
                body: body.isEmpty ? nil : json(body))
            if adminOnly {
                #expect(user.status == .forbidden)
                #expect(try user.apiError().code == .forbidden)
            } else {
                #expect(user.status == .ok)
            }
            for admin in [TestPeer.root, TestPeer.daemon] {
                let response = try await client.executeRequest(
                    uri: path, method: method, headers: TestPeer.headers(admin), body: body.isEmpty ? nil : json(body))
                #expect(response.status == .ok, "\(admin): \(String(buffer: response.body))")
            }
        }
    }

    @Test("a uid outside allowed_uids gets 403 forbidden on every route; root and the daemon's uid always pass")
    func allowedUIDs() async throws {
        let options = ServerOptions(socketPath: "/unused", allowedUIDs: [TestPeer.alice.uid])
        try await withTestAPI(options: options) { client, _ in
            for path in ["/v1/health", "/v1/jobs", "/v1/jobs/1", "/v1/stats", "/v1/nothing"] {
                let refused = try await client.executeRequest(
                    uri: path, method: .get, headers: TestPeer.headers(TestPeer.bob), body: nil)
                #expect(refused.status == .forbidden, "\(path)")
                let error = try refused.apiError()
                #expect(error.code == .forbidden)
                #expect(error.message.contains("uid \(TestPeer.bob.uid)"))
            }
            let submit = try await client.executeRequest(
                uri: "/v1/jobs", method: .post, headers: TestPeer.headers(TestPeer.bob),
                body: json(#"{"kind":"delay","seconds":0}"#))
            #expect(submit.status == .forbidden)
            for peer in [TestPeer.alice, TestPeer.root, TestPeer.daemon] {
                let health = try await client.executeRequest(
                    uri: "/v1/health", method: .get, headers: TestPeer.headers(peer), body: nil)
                #expect(health.status == .ok, "\(peer)")
            }
            // Bob's refused submit stored nothing.
            #expect(try await Self.listedIDs(client, as: TestPeer.root).isEmpty)
        }
    }

    @Test("with allowed_gids a peer passes by its gid and is refused otherwise")
    func allowedGIDs() async throws {
        let options = ServerOptions(socketPath: "/unused", allowedGIDs: [TestPeer.alice.gid])
        try await withTestAPI(options: options) { client, _ in
            let allowed = try await client.executeRequest(
                uri: "/v1/health", method: .get, headers: TestPeer.headers(TestPeer.alice), body: nil)
            #expect(allowed.status == .ok)
            // Bob's uid has no passwd entry, so no supplementary group can let him in.
            let refused = try await client.executeRequest(
                uri: "/v1/health", method: .get, headers: TestPeer.headers(TestPeer.bob), body: nil)
            #expect(refused.status == .forbidden)
            #expect(try refused.apiError().code == .forbidden)
            let root = try await client.executeRequest(
                uri: "/v1/health", method: .get, headers: TestPeer.headers(TestPeer.root), body: nil)
            #expect(root.status == .ok)
        }
    }

    @Test("a member of the admin group sees and acts on every job and may pause")
    func adminGroup() async throws {
        let adminGID: UInt32 = 64_900
        let options = ServerOptions(socketPath: "/unused", adminGroup: "\(adminGID)")
        let carol = PeerCredentials(uid: 64_103, gid: adminGID, pid: 103)
        try await withTestAPI(options: options) { client, _ in
            let job = try await Self.submit(client, as: TestPeer.alice)
            #expect(try await Self.listedIDs(client, as: carol) == [job.id])
            let get = try await client.executeRequest(
                uri: "/v1/jobs/\(job.id)", method: .get, headers: TestPeer.headers(carol), body: nil)
            #expect(get.status == .ok)
            let pause = try await client.executeRequest(
                uri: "/v1/pause", method: .post, headers: TestPeer.headers(carol), body: nil)
            #expect(pause.status == .ok)
            let cancel = try await client.executeRequest(
                uri: "/v1/jobs/\(job.id)/cancel", method: .post, headers: TestPeer.headers(carol), body: nil)
            #expect(cancel.status == .ok)
            // Bob is not in the group.
            #expect(try await Self.listedIDs(client, as: TestPeer.bob).isEmpty)
        }
    }

    @Test("an idempotency key names the submitter's own job; another user's key is refused with 409")
    func keysPerSubmitter() async throws {
        try await withTestAPI { client, _ in
            let first = try await Self.submit(client, as: TestPeer.alice, key: "nightly")
            let again = try await client.executeRequest(
                uri: "/v1/jobs", method: .post, headers: TestPeer.headers(TestPeer.alice),
                body: json(#"{"kind":"delay","seconds":60,"key":"nightly"}"#))
            #expect(again.status == .ok)
            #expect(try again.decode(JobRecord.self).id == first.id)
            let other = try await client.executeRequest(
                uri: "/v1/jobs", method: .post, headers: TestPeer.headers(TestPeer.bob),
                body: json(#"{"jobs":[{"kind":"delay","seconds":1},{"kind":"delay","seconds":1,"key":"nightly"}]}"#))
            #expect(other.status == .conflict)
            let error = try other.apiError()
            #expect(error.code == .invalidState)
            #expect(error.field == "key")
            // The whole batch was refused, and Bob learnt nothing of Alice's job.
            #expect(!String(buffer: other.body).contains("\(first.id)"))
            #expect(try await Self.listedIDs(client, as: TestPeer.bob).isEmpty)
        }
    }

    @Test("a request whose peer is unknown gets 403 forbidden")
    func unknownPeer() async throws {
        try await withTestAPI(peers: .custom { _ in nil }) { client, _ in
            let response = try await client.executeRequest(uri: "/v1/health", method: .get, headers: [:], body: nil)
            #expect(response.status == .forbidden)
            #expect(try response.apiError().code == .forbidden)
        }
    }

    @Test("socket peers without a socket (the in-memory test channel) are refused, not trusted")
    func socketPeersFailClosed() async throws {
        try await withTestAPI(peers: .socket) { client, _ in
            let response = try await client.executeRequest(uri: "/v1/health", method: .get, headers: [:], body: nil)
            #expect(response.status == .forbidden)
        }
    }

    @Test("a user's event stream carries only their own jobs' events; an admin's carries all")
    func eventsFiltered() async throws {
        let events = EventBroadcaster()
        try await withTestAPI(events: events) { client, _ in
            try await withThrowingTaskGroup(of: (PeerCredentials, String).self) { group in
                for peer in [TestPeer.bob, TestPeer.daemon] {
                    group.addTask {
                        let response = try await client.executeRequest(
                            uri: "/v1/events", method: .get, headers: TestPeer.headers(peer), body: nil)
                        return (peer, String(buffer: response.body))
                    }
                }
                let deadline = ContinuousClock.now + .seconds(10)
                while events.subscriberCount < 2 {
                    try #require(ContinuousClock.now < deadline, "the event subscriptions did not start")
                    try await Task.sleep(for: .milliseconds(5))
                }
                let alices = try await Self.submit(client, as: TestPeer.alice).id
                let bobs = try await Self.submit(client, as: TestPeer.bob).id
                // Ends both streams, so their bodies are complete.
                events.close()
                var bodies: [PeerCredentials: String] = [:]
                for try await (peer, body) in group { bodies[peer] = body }
                let bob = try #require(bodies[TestPeer.bob])
                let admin = try #require(bodies[TestPeer.daemon])
                #expect(bob.contains(#""job_id":\#(bobs)"#))
                #expect(!bob.contains(#""job_id":\#(alices)"#))
                #expect(admin.contains(#""job_id":\#(bobs)"#))
                #expect(admin.contains(#""job_id":\#(alices)"#))
            }
        }
    }
}
