import JobdClient
import JobdModel
import Testing

@Suite("ArgumentText")
struct ArgumentTextTests {
    @Test(
        "durations parse with or without a unit",
        arguments: [
            ("1.5", 1.5), ("0", 0), ("250ms", 0.25), ("2s", 2), ("2m", 120), ("1h", 3600), ("1d", 86_400),
            (" 3 ", 3), ("1.5M", 90),
        ])
    func seconds(text: String, expected: Double) {
        #expect(ArgumentText.seconds(text) == expected)
    }

    @Test("bad durations are rejected", arguments: ["", "-1", "abc", "1x", "ms", "inf", "nan", "+3"])
    func badSeconds(text: String) {
        #expect(ArgumentText.seconds(text) == nil)
    }

    @Test(
        "--value is JSON when it parses, else a plain string",
        arguments: [
            (#""Data 1""#, JSONValue.string("Data 1")),
            ("Data 1", .string("Data 1")),
            ("42", .int(42)),
            ("1.5", .double(1.5)),
            ("null", .null),
            ("true", .bool(true)),
            (#"{"a":[1]}"#, .object(["a": .array([.int(1)])])),
            ("", .string("")),
            ("{oops", .string("{oops")),
        ])
    func jsonValue(text: String, expected: JSONValue) {
        #expect(ArgumentText.jsonValue(text) == expected)
    }

    @Test(
        "headers split at the first colon",
        arguments: [
            ("Accept: text/html", "Accept|text/html"),
            ("X-Time:12:30", "X-Time|12:30"),
            ("X-Empty:", "X-Empty|"),
            ("no colon", nil),
            (": value", nil),
        ] as [(String, String?)])
    func headers(text: String, expected: String?) {
        #expect(ArgumentText.header(text).map { "\($0.name)|\($0.value)" } == expected)
    }
}
