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

    @Test(
        "prune ages need a unit",
        arguments: [
            ("1d", Duration.seconds(86_400)), ("12h", .seconds(43_200)), ("90m", .seconds(5400)), ("30s", .seconds(30)),
            ("0s", .zero), ("250ms", .milliseconds(250)), ("1.5h", .seconds(5400)), ("2w", .seconds(1_209_600)),
            (" 1D ", .seconds(86_400)),
        ])
    func ages(text: String, expected: Duration) {
        #expect(ArgumentText.duration(text, requiringUnit: true) == expected)
    }

    @Test(
        "a bare number is refused where a unit is required", arguments: ["7", "0", "1.5", "", "d", "-1d", "1y", "1e9d"])
    func badAges(text: String) {
        #expect(ArgumentText.duration(text, requiringUnit: true) == nil)
    }

    @Test("without requiringUnit a bare number is seconds")
    func durationSeconds() {
        #expect(ArgumentText.duration("7") == .seconds(7))
        #expect(ArgumentText.duration("0.0004") == .milliseconds(1))
    }
}
