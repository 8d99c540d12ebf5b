import Foundation
import JobdModel
import Testing

@Suite struct JSONTextTests {
    static let results: [JobResult] = [
        .delay(DelayResult(value: .null)),
        .delay(DelayResult(value: "Data 1")),
        .delay(DelayResult(value: 42)),
        .delay(DelayResult(value: true)),
        .delay(DelayResult(value: "quote \" backslash \\ slash / tab \t nl \n cr \r bell \u{07} é 日本 🎉")),
        .delay(
            DelayResult(
                value: .object([
                    "b": .array([1, "two", .null, .object(["z": false, "a": -7])]), "a": "first", "": "empty key",
                ]))),
        .fetch(
            FetchResult(
                status: 503, headers: ["retry-after": "1", "content-type": "text/plain; charset=\"utf-8\""],
                body: "{\"json\": \"inside\"}\n\u{00}", bodyEncoding: .utf8, size: 20, elapsedMs: 12.345,
                finalURL: "http://127.0.0.1:8080/a?b=c&d=e")),
        .fetch(
            FetchResult(
                status: 200, headers: [:], body: "", bodyEncoding: .base64, size: 0, elapsedMs: 0.000_01,
                finalURL: "https://example.com/")),
    ]

    @Test("the writer's text decodes to the same result as JSONEncoder's", arguments: results)
    func roundTrip(_ result: JobResult) throws {
        let text = try #require(JSONText.encode(result))
        let decoded = try JSONCoding.makeDecoder().decode(JobResult.self, from: Data(text.utf8))
        #expect(decoded == result)
    }

    @Test("simple results are byte for byte what JSONEncoder writes")
    func sameBytes() throws {
        for result in [Self.results[0], Self.results[1], Self.results[2], Self.results[5]] {
            let encoded = String(decoding: try JSONCoding.makeEncoder().encode(result), as: UTF8.self)
            #expect(JSONText.encode(result) == encoded)
        }
    }

    @Test("a delay value holding a double is left to JSONEncoder")
    func doubleFallsBack() {
        #expect(JSONText.encode(.delay(DelayResult(value: .double(1.5)))) == nil)
        #expect(JSONText.encode(.delay(DelayResult(value: .array([1, .double(0.1)])))) == nil)
    }
}

@Suite struct JSONTextBodyLastTests {
    @Test("the stored form writes a fetch's body last and decodes to the same result")
    func bodyLast() throws {
        let result = JobResult.fetch(
            FetchResult(
                status: 200, headers: ["content-type": "text/html", "etag": "\"x\""], body: "<p>\"hi\",\"body\":</p>\n",
                bodyEncoding: .utf8, size: 22, elapsedMs: 1.5, finalURL: "http://127.0.0.1/a"))
        let text = try #require(JSONText.encode(result, bodyLast: true))
        #expect(text.hasPrefix(#"{"body_encoding":"utf8","#))
        #expect(text.hasSuffix(#","body":"<p>\"hi\",\"body\":</p>\n"}"#))
        #expect(try decode(JobResult.self, from: text) == result)
        let delay = JobResult.delay(DelayResult(value: "v"))
        #expect(JSONText.encode(delay, bodyLast: true) == JSONText.encode(delay))
    }
}
