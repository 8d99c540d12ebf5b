import Foundation
import JobdModel
import Testing

/// `JSONText.encode(_: JobSpec)`: the stored spec without `JSONEncoder`, byte for byte
/// what `JSONCoding.makeEncoder()` writes, or nil where only the encoder writes it so.
@Suite struct JSONTextSpecTests {
    static let written: [JobSpec] = [
        JobSpec(.delay(DelaySpec(seconds: 0))),
        JobSpec(.delay(DelaySpec(seconds: 1, value: .string("Data 1")))),
        JobSpec(.delay(DelaySpec(seconds: 30, value: .object(["b": .array([.int(1), .null]), "a": .bool(true)])))),
        JobSpec(.delay(DelaySpec(seconds: 2, fail: "boom \"quoted\"\n"))),
        JobSpec(.delay(DelaySpec(seconds: -0.0))),
        JobSpec(
            .delay(DelaySpec(seconds: 5)), timeout: 60, maxAttempts: 3, priority: -7, onInterrupt: .fail,
            key: "k/1", onDependencyFailure: .run, tags: ["a", "b.c"], keyWindow: 3600),
        JobSpec(.fetch(FetchSpec(url: "http://127.0.0.1:8080/a/b?c=d"))),
        JobSpec(
            .fetch(
                FetchSpec(
                    url: "https://example.com/é", headers: ["X-B": "2", "Authorization": "Bearer t\\x"],
                    maxBodyBytes: 1_048_576)), timeout: 10, priority: 3),
    ]

    @Test("the text is JSONEncoder's, byte for byte, and decodes to the same spec", arguments: written)
    func sameBytes(_ spec: JobSpec) throws {
        let fast = try #require(JSONText.encode(spec))
        let encoder = String(decoding: try JSONCoding.makeEncoder().encode(spec), as: UTF8.self)
        #expect(fast == encoder)
        #expect(try JSONCoding.makeDecoder().decode(JobSpec.self, from: Data(fast.utf8)) == spec)
    }

    static let leftToTheEncoder: [JobSpec] = [
        JobSpec(.delay(DelaySpec(seconds: 0.5))),
        JobSpec(.delay(DelaySpec(seconds: 1, value: .double(1.5)))),
        JobSpec(.delay(DelaySpec(seconds: 1)), timeout: 2.25),
        JobSpec(.delay(DelaySpec(seconds: 1)), runAt: Date(timeIntervalSince1970: 1_800_000_000)),
        JobSpec(.delay(DelaySpec(seconds: 1)), after: [.position(0)]),
        JobSpec(.delay(DelaySpec(seconds: 1e300))),
    ]

    @Test("run_at, after and fractional or huge numbers are left to JSONEncoder", arguments: leftToTheEncoder)
    func fallsBack(_ spec: JobSpec) {
        #expect(JSONText.encode(spec) == nil)
    }
}
