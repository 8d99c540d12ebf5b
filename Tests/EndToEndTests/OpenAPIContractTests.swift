import Foundation
import JobdModel
import Synchronization
import Testing

/// `docs/openapi.yaml` against the real jobd: every operation is called over the socket,
/// and every answer (status, content type, body) must be what the document says; requests
/// on the edges of the documented bounds must be refused exactly when the document refuses
/// them.
@Suite(.heavy) struct OpenAPIContractTests {
    /// Calls the daemon and checks each answer against the document, remembering which
    /// operations were seen.
    final class Contract: Sendable {
        let document: OpenAPIDocument
        let socketPath: String
        let seen = Mutex<[String: Set<Int>]>([:])

        init(document: OpenAPIDocument, socketPath: String) {
            self.document = document
            self.socketPath = socketPath
        }

        /// Sends a request and checks the answer against its operation's documented
        /// answers; when `edge` is set, also that the server refuses it (400 or 413)
        /// exactly when the document's request schemas do.
        @discardableResult
        func call(
            _ method: String, _ target: String, _ body: String? = nil, expect status: Int? = nil, edge: Bool = false,
            sourceLocation: SourceLocation = #_sourceLocation
        ) async throws -> SocketAnswer {
            let data = body.map { Data($0.utf8) }
            let answer = try await SocketConnection.exchange(
                path: socketPath, method: method, target: target, body: data)
            let label = "\(method) \(target)"
            guard let operation = document.operation(method, target) else {
                Issue.record("\(label): no operation in the document", sourceLocation: sourceLocation)
                return answer
            }
            seen.withLock { $0[operation.key, default: []].insert(answer.status) }
            let errors = document.answerErrors(
                operation, status: answer.status, contentType: answer.headers["content-type"], body: answer.data)
            #expect(errors.isEmpty, "\(label): \(errors)", sourceLocation: sourceLocation)
            if let status {
                #expect(
                    answer.status == status,
                    "\(label) answered \(answer.status): \(answer.body.prefix(300))",
                    sourceLocation: sourceLocation)
            }
            if edge {
                let refusals = document.requestErrors(operation, target: target, body: data)
                let refused = answer.status == 400 || answer.status == 413
                #expect(
                    refused == !refusals.isEmpty,
                    "\(label) \(body ?? ""): the document \(refusals.isEmpty ? "accepts" : "refuses (\(refusals))") it, the server answered \(answer.status)",
                    sourceLocation: sourceLocation)
            }
            return answer
        }

        /// The JSON body of an answer.
        func json(_ answer: SocketAnswer) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: answer.data) as? [String: Any])
        }

        func id(_ answer: SocketAnswer) throws -> Int {
            try #require(try json(answer)["id"] as? Int)
        }
    }

    @Test("the document: every operation has a unique operationId and a declared tag, and says 403, 500 and 503")
    func documentShape() throws {
        let document = try OpenAPIDocument()
        guard case .object(let top) = document.root, case .array(let tagList) = top["tags"] else {
            Issue.record("no top-level tags")
            return
        }
        let declared = Set(
            tagList.compactMap { tag -> String? in
                if case .object(let members) = tag, case .string(let name) = members["name"] { name } else { nil }
            })
        var ids: Set<String> = []
        for operation in document.operations {
            let id = try #require(operation.id, "\(operation.key) has no operationId")
            #expect(ids.insert(id).inserted, "operationId \(id) repeats")
            guard case .array(let tags) = operation.definition["tags"], !tags.isEmpty else {
                Issue.record("\(operation.key) has no tags")
                continue
            }
            for case .string(let tag) in tags { #expect(declared.contains(tag), "\(operation.key): tag \(tag)") }
            guard case .object(let responses) = operation.definition["responses"] else { continue }
            for status in ["403", "500", "503"] {
                #expect(responses[status] != nil, "\(operation.key) does not document \(status)")
            }
            if operation.definition["requestBody"] != nil {
                for status in ["400", "413"] {
                    #expect(responses[status] != nil, "\(operation.key) takes a body but does not document \(status)")
                }
            }
        }
        #expect(document.operations.count >= 27)
    }

    @Test("every operation's real answers are as documented; the edges of the bounds are refused as documented")
    func realAnswers() async throws {
        let document = try OpenAPIDocument()
        try await withLocalHTTPServer { server in
            try await withTestDaemon { daemon in
                let contract = Contract(document: document, socketPath: daemon.socketPath)
                try await Self.system(contract)
                try await Self.jobs(contract, fetchURL: server.base + "/ok")
                try await Self.edges(contract, fetchURL: server.base + "/ok")
                try await Self.batches(contract)
                try await Self.schedules(contract)
                try await Self.events(contract, daemon: daemon)
                try await Self.wrongMethods(contract)
                try await Self.dashboard(contract)
                // Every documented operation was called and checked at least once.
                let seen = contract.seen.withLock { $0 }
                let missing = document.operations.map(\.key).filter { seen[$0] == nil }
                #expect(missing.isEmpty, "operations never called: \(missing)")
                print(
                    "OpenAPIContractTests: \(seen.count) operations, \(seen.values.map(\.count).reduce(0, +)) (operation, status) pairs checked"
                )
            }
        }
    }

    static func system(_ contract: Contract) async throws {
        try await contract.call("GET", "/v1/health", expect: 200)
        try await contract.call("GET", "/v1/stats", expect: 200)
        try await contract.call("GET", "/metrics", expect: 200)
        try await contract.call("GET", "/v1/nodes", expect: 200)
        try await contract.call("GET", "/v1/stats/history", expect: 200)
        try await contract.call("GET", "/ui", expect: 200)
        try await contract.call("GET", "/ui/", expect: 200)
        try await contract.call("GET", "/ui/app.js", expect: 200)
        try await contract.call("GET", "/ui/style.css", expect: 200)
        try await contract.call("GET", "/ui/nothing.js", expect: 404)
        try await contract.call("GET", "/v1/workers", expect: 200)
        try await contract.call("PUT", "/v1/workers", #"{"workers":4}"#, expect: 200, edge: true)
        try await contract.call("PUT", "/v1/workers", #"{"workers":0}"#, expect: 400, edge: true)
        try await contract.call("PUT", "/v1/workers", #"{"workers":100001}"#, expect: 400, edge: true)
        try await contract.call("PUT", "/v1/workers", #"{"workers":"4"}"#, expect: 400, edge: true)
        try await contract.call("PUT", "/v1/workers", #"{"workers":4"#, expect: 400)
        try await contract.call("POST", "/v1/pause", expect: 200)
        try await contract.call("POST", "/v1/resume", expect: 200)
        try await contract.call("POST", "/v1/prune", #"{"older_than":-1}"#, expect: 400, edge: true)
        try await contract.call("POST", "/v1/prune", #"{"older_than":86400}"#, expect: 200, edge: true)
        let backup = try await contract.call("POST", "/v1/backup", expect: 200)
        #expect(backup.data.starts(with: Data("SQLite format 3\u{0}".utf8)), "a SQLite file")
        try await contract.call("POST", "/v1/vacuum", expect: 200)
    }

    static func jobs(_ contract: Contract, fetchURL: String) async throws {
        let delay = try await contract.call(
            "POST", "/v1/jobs", #"{"kind":"delay","seconds":0,"value":{"a":[1,2.5,null]},"tags":["t1"]}"#, expect: 201)
        let delayID = try contract.id(delay)
        let fetch = try await contract.call("POST", "/v1/jobs", #"{"kind":"fetch","url":"\#(fetchURL)"}"#, expect: 201)
        let fetchID = try contract.id(fetch)
        let failing = try await contract.call(
            "POST", "/v1/jobs", #"{"kind":"delay","seconds":0,"fail":"no","max_attempts":1}"#, expect: 201)
        let failingID = try contract.id(failing)
        try await contract.call("POST", "/v1/jobs", #"{"kind":"delay","seconds":0,"key":"k1"}"#, expect: 201)
        try await contract.call("POST", "/v1/jobs", #"{"kind":"delay","seconds":0,"key":"k1"}"#, expect: 200)
        let batch = try await contract.call(
            "POST", "/v1/jobs", #"{"jobs":[{"kind":"delay","seconds":0},{"kind":"delay","seconds":0,"after":["@0"]}]}"#,
            expect: 201)
        #expect((try contract.json(batch)["ids"] as? [Int])?.count == 2)
        for id in [delayID, fetchID, failingID] {
            try await contract.call("GET", "/v1/jobs/\(id)/wait?timeout=30", expect: 200)
            try await contract.call("GET", "/v1/jobs/\(id)", expect: 200)
        }
        try await contract.call("GET", "/v1/jobs/\(delayID)/result", expect: 200)
        let page = try await contract.call("GET", "/v1/jobs/\(fetchID)/result", expect: 200)
        #expect(page.body == "hello from the test server")
        try await contract.call("GET", "/v1/jobs/\(failingID)/result", expect: 409)
        try await contract.call("GET", "/v1/jobs/999999/result", expect: 404)
        try await contract.call("GET", "/v1/jobs", expect: 200)
        try await contract.call("GET", "/v1/jobs?tag=t1&state=succeeded&kind=delay&limit=5", expect: 200)
        try await contract.call("GET", "/v1/jobs/999999", expect: 404)
        try await contract.call("GET", "/v1/jobs/999999/wait?timeout=0", expect: 404)
        try await contract.call("GET", "/v1/jobs/\(delayID)/wait?timeout=soon", expect: 400)
        try await contract.call("POST", "/v1/jobs/\(failingID)/retry", expect: 200)
        try await contract.call("POST", "/v1/jobs/999999/retry", expect: 404)
        let later = try await contract.call(
            "POST", "/v1/jobs", #"{"kind":"delay","seconds":0,"run_at":"2999-01-01T00:00:00Z"}"#, expect: 201)
        let laterID = try contract.id(later)
        try await contract.call("POST", "/v1/jobs/\(laterID)/retry", expect: 409)
        try await contract.call("POST", "/v1/jobs/\(laterID)/cancel", expect: 200)
        try await contract.call("POST", "/v1/jobs/\(laterID)/cancel", expect: 409)
        try await contract.call("POST", "/v1/jobs/999999/cancel", expect: 404)
        try await contract.call("POST", "/v1/jobs", #"{"kind":"teleport"}"#, expect: 400)
        try await contract.call("POST", "/v1/jobs", #"{"kind":"delay","seconds":1"#, expect: 400)
    }

    /// Requests on both sides of each documented bound: the server refuses exactly those
    /// the document refuses (`edge: true` checks it).
    static func edges(_ contract: Contract, fetchURL: String) async throws {
        for target in [
            "/v1/jobs?after=0", "/v1/jobs?after=1", "/v1/jobs?limit=0", "/v1/jobs?limit=1", "/v1/jobs?limit=1000",
            "/v1/jobs?limit=1001", "/v1/jobs?state=sleeping", "/v1/jobs?kind=fetch", "/v1/jobs?tag=a%20b",
            "/v1/batches?after=0", "/v1/batches?limit=1001", "/v1/batches?state=running",
        ] {
            try await contract.call("GET", target, edge: true)
        }
        let future = #""run_at":"2999-01-01T00:00:00Z""#
        for spec in [
            #"{"kind":"fetch","url":""}"#, #"{"kind":"fetch","url":"ftp://example.org/"}"#,
            #"{"kind":"fetch","url":"http://"}"#, #"{"kind":"fetch","url":"\#(fetchURL)",\#(future)}"#,
            #"{"kind":"delay","seconds":-1}"#, #"{"kind":"delay","seconds":2592001}"#,
            #"{"kind":"delay","seconds":2592000,\#(future)}"#, #"{"kind":"delay","seconds":0,"timeout":0}"#,
            #"{"kind":"delay","seconds":0,"timeout":2592001}"#, #"{"kind":"delay","seconds":0,"max_attempts":0}"#,
            #"{"kind":"delay","seconds":0,"max_attempts":101}"#, #"{"kind":"delay","seconds":0,"max_attempts":100}"#,
            #"{"kind":"delay","seconds":0,"key":""}"#, #"{"kind":"delay","seconds":0,"key":"schedule:x"}"#,
            #"{"kind":"delay","seconds":0,"key":"\#(String(repeating: "k", count: 257))"}"#,
            #"{"kind":"delay","seconds":0,"tags":["a","a"]}"#, #"{"kind":"delay","seconds":0,"tags":["a b"]}"#,
            #"{"kind":"delay","seconds":0,"timout":5}"#, #"{"kind":"delay","seconds":0,"after":[0]}"#,
            #"{"kind":"delay","seconds":0,"key_window":0,"key":"w"}"#,
            #"{"kind":"delay","seconds":0,"on_interrupt":"maybe"}"#,
        ] {
            try await contract.call("POST", "/v1/jobs", spec, edge: true)
        }
        // A batch at the documented limit is stored; one job more is refused.
        let job = #"{"kind":"delay","seconds":0,\#(future)}"#
        let atLimit = #"{"jobs":["# + Array(repeating: job, count: 10_000).joined(separator: ",") + "]}"
        let overLimit = #"{"jobs":["# + Array(repeating: job, count: 10_001).joined(separator: ",") + "]}"
        try await contract.call("POST", "/v1/jobs", atLimit, expect: 201, edge: true)
        try await contract.call("POST", "/v1/jobs", overLimit, expect: 413, edge: true)
        try await contract.call("POST", "/v1/jobs", #"{"jobs":[]}"#, expect: 400, edge: true)
    }

    static func batches(_ contract: Contract) async throws {
        let created = try await contract.call(
            "POST", "/v1/batches",
            #"{"jobs":[{"kind":"delay","seconds":0,"value":1},{"kind":"delay","seconds":0,"fail":"x","max_attempts":1}],"label":"b","on_complete":{"kind":"delay","seconds":0}}"#,
            expect: 201)
        let id = try contract.id(created)
        try await contract.call("GET", "/v1/batches/\(id)/wait?timeout=30", expect: 200)
        try await contract.call("GET", "/v1/batches/\(id)", expect: 200)
        try await contract.call("GET", "/v1/batches", expect: 200)
        try await contract.call("POST", "/v1/batches/\(id)/cancel", expect: 200)
        try await contract.call("GET", "/v1/batches/999999", expect: 404)
        try await contract.call("GET", "/v1/batches/999999/wait?timeout=0", expect: 404)
        try await contract.call("POST", "/v1/batches/999999/cancel", expect: 404)
        try await contract.call("POST", "/v1/batches", #"{"jobs":[]}"#, expect: 400, edge: true)
        try await contract.call(
            "POST", "/v1/batches", #"{"jobs":[{"kind":"delay","seconds":0}],"label":""}"#, expect: 400, edge: true)
    }

    static func schedules(_ contract: Contract) async throws {
        let spec =
            #"{"name":"nightly","cron":"0 3 * * *","timezone":"Europe/Berlin","job":{"kind":"delay","seconds":0}}"#
        try await contract.call("POST", "/v1/schedules", spec, expect: 201)
        try await contract.call("POST", "/v1/schedules", spec, expect: 200)
        try await contract.call("GET", "/v1/schedules", expect: 200)
        try await contract.call("GET", "/v1/schedules/nightly", expect: 200)
        try await contract.call("POST", "/v1/schedules/nightly/pause", expect: 200)
        try await contract.call("POST", "/v1/schedules/nightly/resume", expect: 200)
        try await contract.call("DELETE", "/v1/schedules/nightly", expect: 200)
        try await contract.call("GET", "/v1/schedules/nightly", expect: 404)
        try await contract.call("DELETE", "/v1/schedules/nightly", expect: 404)
        try await contract.call("POST", "/v1/schedules/nightly/pause", expect: 404)
        try await contract.call("POST", "/v1/schedules/nightly/resume", expect: 404)
        try await contract.call(
            "POST", "/v1/schedules", #"{"name":"bad","cron":"61 * * * *","job":{"kind":"delay","seconds":0}}"#,
            expect: 400)
        try await contract.call(
            "POST", "/v1/schedules", #"{"name":"-bad","cron":"* * * * *","job":{"kind":"delay","seconds":0}}"#,
            expect: 400, edge: true)
    }

    /// The event stream: each event is an item of the documented `itemSchema`, whose
    /// `data` is a `JobEvent`.
    /// A dashboard session: its opening line, and while it is open this process's own
    /// requests (it is the session's process, as `jobctl dashboard` would be) need its
    /// cookie: 401 without, 303 with the token, 200 with the cookie.
    static func dashboard(_ contract: Contract) async throws {
        let operation = try #require(contract.document.operation("POST", "/v1/dashboard/sessions"))
        var line = ""
        do {
            let session = try SocketConnection(path: contract.socketPath)
            session.send(Array("POST /v1/dashboard/sessions HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8))
            let opened = await session.read(until: .now + .seconds(30)) { bytes in
                String(decoding: bytes, as: UTF8.self).contains("}\n")
            }
            try #require(opened, "the session's line did not arrive")
            let answer = try SocketAnswer(parsing: session.received)
            _ = contract.seen.withLock { $0[operation.key, default: []].insert(answer.status) }
            #expect(answer.status == 201)
            line = String(answer.body.prefix { $0 != "\n" })
            let errors = contract.document.answerErrors(
                operation, status: answer.status, contentType: answer.headers["content-type"], body: Data(line.utf8))
            #expect(errors.isEmpty, "POST /v1/dashboard/sessions: \(errors)")
            let token = try #require(
                (try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["token"] as? String)
            try await contract.call("GET", "/v1/stats", expect: 401)
            try await contract.call("GET", "/ui/app.js", expect: 401)
            try await contract.call("POST", "/v1/jobs", #"{"kind":"delay","seconds":0}"#, expect: 403)
            let exchanged = try await contract.call("GET", "/ui?token=\(token)", expect: 303)
            let cookie = try #require(exchanged.headers["set-cookie"])
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"))
            try await contract.call("GET", "/ui?token=\(token)", expect: 401)
            withExtendedLifetime(session) {}
        }
        // The session's connection is closed: this process is an ordinary peer again.
        try await waitUntil("the session ends", deadline: .seconds(10)) {
            (try? await SocketConnection.exchange(path: contract.socketPath, method: "GET", target: "/v1/stats").status)
                == 200
        }
    }

    static func events(_ contract: Contract, daemon: TestDaemon) async throws {
        let connection = try SocketConnection(path: contract.socketPath)
        connection.send(Array("GET /v1/events HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8))
        let opened = await connection.read(until: .now + .seconds(30)) { bytes in
            String(decoding: bytes, as: UTF8.self).contains(": jobd events")
        }
        try #require(opened, "the stream's opening comment did not arrive")
        try await contract.call("POST", "/v1/jobs", #"{"kind":"delay","seconds":0}"#, expect: 201)
        let got = await connection.read(until: .now + .seconds(30)) { bytes in
            String(decoding: bytes, as: UTF8.self).components(separatedBy: "\ndata: ").count > 3
        }
        try #require(got, "three events did not arrive")
        let answer = try SocketAnswer(parsing: connection.received)
        #expect(answer.status == 200)
        #expect(answer.headers["content-type"] == "text/event-stream")
        let operation = try #require(contract.document.operation("GET", "/v1/events"))
        contract.seen.withLock { $0[operation.key, default: []].insert(200) }
        guard case .object(let responses) = operation.definition["responses"],
            case .object(let ok) = responses["200"], case .object(let content) = ok["content"],
            case .object(let stream) = content["text/event-stream"], let itemSchema = stream["itemSchema"]
        else {
            Issue.record("GET /v1/events has no itemSchema for text/event-stream")
            return
        }
        // The whole chunks received so far, decoded.
        let text = answer.body
        var items = 0
        for block in text.components(separatedBy: "\n\n") {
            var fields: [String: JSONValue] = [:]
            for line in block.split(separator: "\n") {
                for field in ["id", "event", "data"] where line.hasPrefix("\(field): ") {
                    fields[field] = .string(String(line.dropFirst(field.count + 2)))
                }
            }
            guard !fields.isEmpty else { continue }
            items += 1
            let errors = contract.document.validator.errors(.object(fields), itemSchema)
            #expect(errors.isEmpty, "event \(fields): \(errors)")
        }
        #expect(items >= 3)
    }

    /// Every documented path answers a method it does not take with 405 and `Allow`
    /// naming exactly its documented methods.
    static func wrongMethods(_ contract: Contract) async throws {
        let byPath = Dictionary(grouping: contract.document.operations, by: \.path)
        for (path, operations) in byPath.sorted(by: { $0.key < $1.key }) {
            let target = path.replacingOccurrences(of: "{id}", with: "1").replacingOccurrences(
                of: "{name}", with: "nightly")
            let answer = try await SocketConnection.exchange(path: contract.socketPath, method: "TRACE", target: target)
            #expect(answer.status == 405, "TRACE \(target) answered \(answer.status)")
            let allowed = Set(
                (answer.headers["allow"] ?? "").split(separator: ",").map {
                    $0.trimmingCharacters(in: .whitespaces)
                })
            #expect(allowed == Set(operations.map { $0.method.uppercased() }), "TRACE \(target): Allow \(allowed)")
            let body = try? JSONDecoder().decode(JSONValue.self, from: answer.data)
            let errors = contract.document.validator.errors(
                body ?? .null, .object(["$ref": .string("#/components/schemas/ErrorResponse")]))
            #expect(errors.isEmpty, "TRACE \(target): \(errors)")
        }
    }
}
