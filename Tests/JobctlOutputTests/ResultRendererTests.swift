import Foundation
import JobdModel
import Testing

@testable import JobctlOutput

@Suite("ResultRenderer")
struct ResultRendererTests {
    private func text(_ data: Data) -> String { String(decoding: data, as: UTF8.self) }

    @Test("a JSON string value prints raw, without quotes")
    func stringValue() {
        let record = Fixtures.record(result: .delay(DelayResult(value: "Data 1")))
        let rendering = ResultRenderer.render(record)
        #expect(text(rendering.output) == "Data 1\n")
        #expect(rendering.errorLine == nil)
        #expect(rendering.isSuccess)
    }

    @Test(
        "other JSON values print as compact JSON with sorted keys",
        arguments: [
            (JSONValue.int(42), "42"),
            (.null, "null"),
            (.bool(true), "true"),
            (.double(1.5), "1.5"),
            (.array([.int(1), .string("a/b")]), #"[1,"a/b"]"#),
            (.object(["b": .int(2), "a": .object(["c": .null])]), #"{"a":{"c":null},"b":2}"#),
        ])
    func compactJSON(value: JSONValue, expected: String) {
        #expect(ResultRenderer.text(for: value) == expected)
        let record = Fixtures.record(result: .delay(DelayResult(value: value)))
        #expect(text(ResultRenderer.render(record).output) == expected + "\n")
    }

    @Test("a fetch body prints as its text, with a final newline added only when missing")
    func fetchText() {
        #expect(text(ResultRenderer.output(for: Fixtures.fetchResult(body: "hello"))) == "hello\n")
        #expect(text(ResultRenderer.output(for: Fixtures.fetchResult(body: "a\nb\n"))) == "a\nb\n")
        #expect(ResultRenderer.output(for: Fixtures.fetchResult(body: "")).isEmpty)
        #expect(text(ResultRenderer.output(for: Fixtures.fetchResult(body: ""), asLine: true)) == "\n")
    }

    @Test("a base64 fetch body prints as the decoded bytes, exactly")
    func fetchBinary() {
        let result = Fixtures.fetchResult(body: Data([0, 1, 2, 255]).base64EncodedString(), encoding: .base64)
        #expect(ResultRenderer.output(for: result) == Data([0, 1, 2, 255]))
        #expect(ResultRenderer.output(for: result, asLine: true) == Data([0, 1, 2, 255, 10]))
    }

    @Test("an http_status failure prints the response body and the error line")
    func httpStatusFailure() {
        let record = Fixtures.record(
            state: .failed,
            result: Fixtures.fetchResult(status: 404, body: "not here"),
            error: JobError(.httpStatus, "the server answered 404 Not Found", httpStatus: 404)
        )
        let rendering = ResultRenderer.render(record)
        #expect(text(rendering.output) == "not here\n")
        #expect(rendering.errorLine == "error: job 7 failed: the server answered 404 Not Found [http_status]")
        #expect(!rendering.isSuccess)
    }

    @Test("a failed delay prints nothing on stdout and names the code")
    func delayFailure() {
        let record = Fixtures.record(id: 12, state: .failed, error: JobError(.jobFailed, "boom"))
        let rendering = ResultRenderer.render(record)
        #expect(rendering.output.isEmpty)
        #expect(rendering.errorLine == "error: job 12 failed: boom [job_failed]")
    }

    @Test("a failure other than http_status never prints a stale result")
    func staleResult() {
        let record = Fixtures.record(
            state: .failed, result: Fixtures.fetchResult(status: 503, body: "old"),
            error: JobError(.timeout, "the attempt ran past its 5s timeout"))
        #expect(ResultRenderer.render(record).output.isEmpty)
    }

    @Test("a cancelled job is an error")
    func cancelled() {
        let record = Fixtures.record(id: 3, state: .cancelled, error: JobError(.cancelled, "cancelled by a user"))
        #expect(ResultRenderer.errorLine(for: record) == "error: job 3 was cancelled: cancelled by a user [cancelled]")
        let bare = Fixtures.record(id: 3, state: .cancelled)
        #expect(ResultRenderer.errorLine(for: bare) == "error: job 3 was cancelled [cancelled]")
    }

    @Test("an unfinished job says not_finished", arguments: [JobState.queued, .running])
    func unfinished(state: JobState) {
        let rendering = ResultRenderer.render(Fixtures.record(id: 5, state: state))
        #expect(rendering.output.isEmpty)
        #expect(rendering.errorLine == "error: job 5 is \(state.rawValue) [not_finished]")
    }
}
