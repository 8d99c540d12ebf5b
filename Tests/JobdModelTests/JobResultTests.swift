import Foundation
import JobdModel
import Testing

@Suite struct JobResultTests {
    static let fetch = JobResult.fetch(
        FetchResult(
            status: 200, headers: ["content-type": "application/json", "etag": "\"v1\""],
            body: #"{"ok":true}"#, bodyEncoding: .utf8, size: 11, elapsedMs: 12.5,
            finalURL: "https://example.com/final"))

    @Test("a fetch result survives a round trip")
    func fetchRoundTrip() throws {
        #expect(try roundTrip(Self.fetch) == Self.fetch)
        let binary = JobResult.fetch(
            FetchResult(
                status: 503, headers: [:], body: "AAEC/w==", bodyEncoding: .base64, size: 4, elapsedMs: 0.5,
                finalURL: "http://localhost/"))
        #expect(try roundTrip(binary) == binary)
    }

    @Test("a delay result survives a round trip, a null value included")
    func delayRoundTrip() throws {
        for value: JSONValue in [.null, "Data 1", .int(7), .array([.bool(true)]), .object(["a": .double(0.5)])] {
            let result = JobResult.delay(DelayResult(value: value))
            #expect(try roundTrip(result) == result, "\(value)")
        }
    }

    @Test("a fetch result is one flat object tagged with kind and snake_case keys")
    func fetchGoldenJSON() throws {
        #expect(
            try encodeToString(Self.fetch)
                == #"{"body":"{\"ok\":true}","body_encoding":"utf8","elapsed_ms":12.5,"final_url":"https://example.com/final","headers":{"content-type":"application/json","etag":"\"v1\""},"kind":"fetch","size":11,"status":200}"#
        )
    }

    @Test("a delay result is tagged with kind and keeps a null value explicit")
    func delayGoldenJSON() throws {
        #expect(
            try encodeToString(JobResult.delay(DelayResult(value: "Data 1"))) == #"{"kind":"delay","value":"Data 1"}"#)
        #expect(try encodeToString(JobResult.delay(DelayResult(value: .null))) == #"{"kind":"delay","value":null}"#)
    }

    @Test("body encodings have stable raw values")
    func bodyEncodingRawValues() {
        #expect(FetchResult.BodyEncoding.utf8.rawValue == "utf8")
        #expect(FetchResult.BodyEncoding.base64.rawValue == "base64")
    }

    @Test("a result with an unknown kind does not decode")
    func unknownKind() {
        #expect(throws: DecodingError.self) { try decode(JobResult.self, from: #"{"kind":"shell","value":1}"#) }
    }
}
