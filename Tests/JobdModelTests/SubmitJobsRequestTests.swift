import Foundation
import JobdModel
import Testing

@Suite struct SubmitJobsRequestTests {
    static let maxBatch = 3

    /// A body `decode` must refuse, with the code and field it must name.
    struct BadBody: Sendable, CustomTestStringConvertible {
        var name: String
        var bytes: [UInt8]
        var code: APIError.Code
        var field: String?

        init(_ name: String, _ body: String, _ code: APIError.Code, field: String?) {
            self.name = name
            self.bytes = Array(body.utf8)
            self.code = code
            self.field = field
        }

        init(_ name: String, bytes: [UInt8], _ code: APIError.Code, field: String?) {
            self.name = name
            self.bytes = bytes
            self.code = code
            self.field = field
        }

        var testDescription: String { name }
    }

    static let badBodies: [BadBody] = [
        BadBody("malformed JSON", #"{"kind":"delay","seconds":1"#, .invalidJSON, field: nil),
        BadBody("empty body", "", .invalidJSON, field: nil),
        BadBody(
            "invalid UTF-8", bytes: [0x7B, 0x22, 0x6B, 0xFF, 0xFE, 0x22, 0x3A, 0x31, 0x7D], .invalidJSON, field: nil),
        BadBody(
            "invalid UTF-8 inside a delay's value string",
            bytes: Array(#"{"kind":"delay","seconds":1,"value":"a"#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8),
            .invalidJSON, field: nil),
        BadBody("an array of numbers", "[1]", .invalidSpec, field: nil),
        BadBody("a bare string", #""x""#, .invalidSpec, field: nil),
        BadBody("unknown kind", #"{"kind":"shell","cmd":"ls"}"#, .unknownKind, field: "kind"),
        BadBody("missing kind", #"{"seconds":1}"#, .invalidSpec, field: "kind"),
        BadBody("kind of the wrong type", #"{"kind":5}"#, .invalidSpec, field: "kind"),
        BadBody("null kind", #"{"kind":null}"#, .invalidSpec, field: "kind"),
        BadBody("delay without seconds", #"{"kind":"delay"}"#, .invalidSpec, field: "seconds"),
        BadBody("seconds as a string", #"{"kind":"delay","seconds":"1"}"#, .invalidSpec, field: "seconds"),
        BadBody("negative seconds", #"{"kind":"delay","seconds":-1}"#, .invalidSpec, field: "seconds"),
        BadBody("seconds over 30 days", #"{"kind":"delay","seconds":2592001}"#, .invalidSpec, field: "seconds"),
        BadBody("huge seconds", #"{"kind":"delay","seconds":1e300}"#, .invalidSpec, field: "seconds"),
        BadBody("fetch without url", #"{"kind":"fetch"}"#, .invalidSpec, field: "url"),
        BadBody("fetch ftp URL", #"{"kind":"fetch","url":"ftp://example.com/file"}"#, .invalidURL, field: "url"),
        BadBody("fetch relative URL", #"{"kind":"fetch","url":"/v1/jobs"}"#, .invalidURL, field: "url"),
        BadBody("fetch URL without host", #"{"kind":"fetch","url":"http://"}"#, .invalidURL, field: "url"),
        BadBody("fetch URL with empty host", #"{"kind":"fetch","url":"http:///path"}"#, .invalidURL, field: "url"),
        BadBody("fetch URL that is not a URL", #"{"kind":"fetch","url":"not a url"}"#, .invalidURL, field: "url"),
        BadBody(
            "negative max_body_bytes", #"{"kind":"fetch","url":"https://example.com","max_body_bytes":-1}"#,
            .invalidSpec, field: "max_body_bytes"),
        BadBody(
            "header value with a newline",
            #"{"kind":"fetch","url":"https://example.com","headers":{"X-A":"a\r\nX-Injected: 1"}}"#, .invalidSpec,
            field: "headers"),
        BadBody(
            "header name with a space", #"{"kind":"fetch","url":"https://example.com","headers":{"X A":"a"}}"#,
            .invalidSpec, field: "headers"),
        BadBody(
            "empty header name", #"{"kind":"fetch","url":"https://example.com","headers":{"":"a"}}"#, .invalidSpec,
            field: "headers"),
        BadBody("timeout 0", #"{"kind":"delay","seconds":1,"timeout":0}"#, .invalidSpec, field: "timeout"),
        BadBody("timeout -1", #"{"kind":"delay","seconds":1,"timeout":-1}"#, .invalidSpec, field: "timeout"),
        BadBody(
            "timeout 1e10 (past 30 days)", #"{"kind":"fetch","url":"http://a.test/","timeout":1e10}"#, .invalidSpec,
            field: "timeout"),
        BadBody(
            "max_attempts 0", #"{"kind":"delay","seconds":1,"max_attempts":0}"#, .invalidSpec, field: "max_attempts"),
        BadBody(
            "max_attempts 101", #"{"kind":"delay","seconds":1,"max_attempts":101}"#, .invalidSpec, field: "max_attempts"
        ),
        BadBody("empty key", #"{"kind":"delay","seconds":1,"key":""}"#, .invalidSpec, field: "key"),
        BadBody(
            "key over 256 bytes", #"{"kind":"delay","seconds":1,"key":"\#(String(repeating: "k", count: 257))"}"#,
            .invalidSpec, field: "key"),
        BadBody(
            "unknown on_interrupt", #"{"kind":"delay","seconds":1,"on_interrupt":"maybe"}"#, .invalidSpec,
            field: "on_interrupt"),
        BadBody(
            "run_at not RFC 3339", #"{"kind":"delay","seconds":1,"run_at":"tomorrow"}"#, .invalidSpec, field: "run_at"),
        BadBody("jobs not an array", #"{"jobs":5}"#, .invalidSpec, field: "jobs"),
        BadBody("empty batch", #"{"jobs":[]}"#, .invalidSpec, field: "jobs"),
        BadBody(
            "batch over maxBatch",
            #"{"jobs":[{"kind":"delay","seconds":1},{"kind":"delay","seconds":1},{"kind":"delay","seconds":1},{"kind":"delay","seconds":1}]}"#,
            .batchTooLarge, field: "jobs"),
        BadBody(
            "batch element without seconds", #"{"jobs":[{"kind":"delay","seconds":1},{"kind":"delay"}]}"#, .invalidSpec,
            field: "jobs[1].seconds"),
        BadBody(
            "batch element with negative seconds",
            #"{"jobs":[{"kind":"delay","seconds":1},{"kind":"delay","seconds":-5}]}"#, .invalidSpec,
            field: "jobs[1].seconds"),
        BadBody(
            "batch element with an unknown kind", #"{"jobs":[{"kind":"delay","seconds":1},{"kind":"nap"}]}"#,
            .unknownKind, field: "jobs[1].kind"),
        BadBody(
            "batch element with a bad URL",
            #"{"jobs":[{"kind":"delay","seconds":1},{"kind":"delay","seconds":1},{"kind":"fetch","url":"ftp://x"}]}"#,
            .invalidURL, field: "jobs[2].url"),
        BadBody(
            "batch element with a bad timeout", #"{"jobs":[{"kind":"delay","seconds":1,"timeout":0}]}"#, .invalidSpec,
            field: "jobs[0].timeout"),
        BadBody("tags not an array", #"{"kind":"delay","seconds":1,"tags":"a"}"#, .invalidSpec, field: "tags"),
        BadBody("a misspelt timeout", #"{"kind":"delay","seconds":1,"timout":5}"#, .invalidSpec, field: "timout"),
        BadBody(
            "a field of the other kind", #"{"kind":"delay","seconds":1,"url":"http://x"}"#, .invalidSpec, field: "url"),
        BadBody(
            "a batch element with an unknown field",
            #"{"jobs":[{"kind":"delay","seconds":1},{"kind":"fetch","url":"http://x","retries":3}]}"#,
            .invalidSpec, field: "jobs[1].retries"),
        BadBody("a tag not a string", #"{"kind":"delay","seconds":1,"tags":["a",5]}"#, .invalidSpec, field: "tags[1]"),
        BadBody("an empty tag", #"{"kind":"delay","seconds":1,"tags":["a","b",""]}"#, .invalidSpec, field: "tags[2]"),
        BadBody(
            "a tag with a space", #"{"kind":"delay","seconds":1,"tags":["a","b","c d"]}"#, .invalidSpec,
            field: "tags[2]"),
        BadBody(
            "a tag with a non-ASCII letter", #"{"kind":"delay","seconds":1,"tags":["é"]}"#, .invalidSpec,
            field: "tags[0]"),
        BadBody(
            "a tag of 65 characters", #"{"kind":"delay","seconds":1,"tags":["\#(String(repeating: "t", count: 65))"]}"#,
            .invalidSpec, field: "tags[0]"),
        BadBody(
            "a repeated tag", #"{"kind":"delay","seconds":1,"tags":["a","b","a"]}"#, .invalidSpec, field: "tags[2]"),
        BadBody(
            "17 tags",
            #"{"kind":"delay","seconds":1,"tags":[\#((0..<17).map { "\"t\($0)\"" }.joined(separator: ","))]}"#,
            .invalidSpec, field: "tags"),
        BadBody(
            "batch element with a bad tag",
            #"{"jobs":[{"kind":"delay","seconds":1},{"kind":"delay","seconds":1},{"kind":"delay","seconds":1,"tags":["ok","x/y","z"]}]}"#,
            .invalidSpec, field: "jobs[2].tags[1]"),
        BadBody(
            "key_window without key", #"{"kind":"delay","seconds":1,"key_window":60}"#, .invalidSpec,
            field: "key_window"),
        BadBody(
            "key_window 0", #"{"kind":"delay","seconds":1,"key":"k","key_window":0}"#, .invalidSpec, field: "key_window"
        ),
        BadBody(
            "key_window negative", #"{"kind":"delay","seconds":1,"key":"k","key_window":-1}"#, .invalidSpec,
            field: "key_window"),
        BadBody(
            "key_window past 10 years", #"{"kind":"delay","seconds":1,"key":"k","key_window":1e10}"#, .invalidSpec,
            field: "key_window"),
        BadBody(
            "key_window as a string", #"{"kind":"delay","seconds":1,"key":"k","key_window":"60"}"#, .invalidSpec,
            field: "key_window"),
    ]

    @Test("a bad body is refused with a stable code naming the field", arguments: SubmitJobsRequestTests.badBodies)
    func badBody(_ body: BadBody) {
        let error = #expect(throws: APIError.self) {
            try SubmitJobsRequest.decode(body.bytes, maxBatch: Self.maxBatch)
        }
        #expect(error?.code == body.code)
        #expect(error?.field == body.field)
        #expect(error?.message.isEmpty == false)
    }

    /// Valid JSON whose numbers do not fit the field's integer type: not `invalid_json`.
    static let integerMismatches: [BadBody] = [
        BadBody(
            "max_attempts not an integer", #"{"kind":"delay","seconds":1,"max_attempts":1.5}"#, .invalidSpec,
            field: "max_attempts"),
        BadBody(
            "priority beyond Int", #"{"kind":"delay","seconds":1,"priority":99999999999999999999}"#, .invalidSpec,
            field: "priority"),
        BadBody(
            "max_body_bytes not an integer", #"{"kind":"fetch","url":"https://example.com","max_body_bytes":0.5}"#,
            .invalidSpec, field: "max_body_bytes"),
        BadBody(
            "batch element max_attempts not an integer", #"{"jobs":[{"kind":"delay","seconds":1,"max_attempts":2.5}]}"#,
            .invalidSpec, field: "jobs[0].max_attempts"),
    ]

    @Test(
        "a number that does not fit an integer field is invalid_spec naming the field",
        arguments: SubmitJobsRequestTests.integerMismatches)
    func integerMismatch(_ body: BadBody) {
        let error = #expect(throws: APIError.self) {
            try SubmitJobsRequest.decode(body.bytes, maxBatch: Self.maxBatch)
        }
        #expect(error?.code == body.code)
        #expect(error?.field == body.field)
    }

    @Test("a good single body decodes to that spec")
    func goodSingle() throws {
        let request = try SubmitJobsRequest.decode(
            Array(#"{"kind":"delay","seconds":1.5,"value":"Data 1","timeout":10,"max_attempts":100,"key":"k"}"#.utf8),
            maxBatch: Self.maxBatch)
        #expect(
            request
                == .single(
                    JobSpec(.delay(DelaySpec(seconds: 1.5, value: "Data 1")), timeout: 10, maxAttempts: 100, key: "k")))
    }

    @Test("boundary values are accepted")
    func boundaries() throws {
        let bodies = [
            #"{"kind":"delay","seconds":0}"#,
            #"{"kind":"delay","seconds":2592000}"#,
            #"{"kind":"delay","seconds":1,"max_attempts":1}"#,
            #"{"kind":"delay","seconds":1,"timeout":0.001}"#,
            #"{"kind":"delay","seconds":1,"key":"\#(String(repeating: "k", count: 256))"}"#,
            #"{"kind":"fetch","url":"HTTPS://EXAMPLE.COM","max_body_bytes":0}"#,
            #"{"kind":"fetch","url":"http://127.0.0.1:8080/x?y=1","headers":{"X-Token":"a b"}}"#,
            #"{"kind":"delay","seconds":1,"tags":[]}"#,
            #"{"kind":"delay","seconds":1,"tags":["\#(String(repeating: "t", count: 64))","A-z_0.9:x"]}"#,
            #"{"kind":"delay","seconds":1,"tags":[\#((0..<16).map { "\"t\($0)\"" }.joined(separator: ","))]}"#,
            #"{"kind":"delay","seconds":1,"key":"k","key_window":0.001}"#,
            #"{"kind":"delay","seconds":1,"key":"k","key_window":315360000}"#,
        ]
        for body in bodies {
            #expect(throws: Never.self, "\(body)") { try SubmitJobsRequest.decode(Array(body.utf8), maxBatch: 1) }
        }
    }

    @Test("a good batch decodes in order, up to maxBatch jobs")
    func goodBatch() throws {
        let body =
            #"{"jobs":[{"kind":"delay","seconds":1},{"kind":"fetch","url":"https://example.com"},{"kind":"delay","seconds":2,"priority":9}]}"#
        let request = try SubmitJobsRequest.decode(Array(body.utf8), maxBatch: Self.maxBatch)
        #expect(
            request
                == .batch([
                    JobSpec(.delay(DelaySpec(seconds: 1))),
                    JobSpec(.fetch(FetchSpec(url: "https://example.com"))),
                    JobSpec(.delay(DelaySpec(seconds: 2)), priority: 9),
                ]))
    }

    @Test("a single spec survives a round trip and is flat on the wire")
    func singleRoundTrip() throws {
        let request = SubmitJobsRequest.single(
            JobSpec(.fetch(FetchSpec(url: "https://example.com", headers: ["A": "b"])), priority: 1, key: "x"))
        #expect(try roundTrip(request) == request)
        #expect(
            try encodeToString(request)
                == #"{"headers":{"A":"b"},"key":"x","kind":"fetch","priority":1,"url":"https://example.com"}"#)
    }

    @Test("a batch survives a round trip and is wrapped in jobs on the wire")
    func batchRoundTrip() throws {
        let request = SubmitJobsRequest.batch([
            JobSpec(.delay(DelaySpec(seconds: 1, value: .array([1, "two"])))),
            JobSpec(.fetch(FetchSpec(url: "https://example.com")), runAt: try utc("2026-11-25T14:25:04Z")),
        ])
        #expect(try roundTrip(request) == request)
        #expect(
            try encodeToString(request)
                == #"{"jobs":[{"kind":"delay","seconds":1,"value":[1,"two"]},{"kind":"fetch","run_at":"2026-11-25T14:25:04.000Z","url":"https://example.com"}]}"#
        )
    }
}
