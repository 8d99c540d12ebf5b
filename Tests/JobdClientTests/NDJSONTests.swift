import JobdClient
import JobdModel
import Testing

@Suite("NDJSON")
struct NDJSONTests {
    @Test("parses one spec per line, skipping blank lines and accepting CRLF")
    func parses() throws {
        let text = """
            {"kind":"delay","seconds":1,"value":"Data 1"}

               \t
            {"kind":"fetch","url":"https://example.com/","headers":{"X-A":"b"}}\r
            {"kind":"delay","seconds":0.5,"fail":"boom","max_attempts":2,"priority":3,"key":"k"}
            """
        let specs = try NDJSON.parseSpecs(text)
        #expect(
            specs == [
                JobSpec(.delay(DelaySpec(seconds: 1, value: "Data 1"))),
                JobSpec(.fetch(FetchSpec(url: "https://example.com/", headers: ["X-A": "b"]))),
                JobSpec(.delay(DelaySpec(seconds: 0.5, fail: "boom")), maxAttempts: 2, priority: 3, key: "k"),
            ])
    }

    @Test("an empty text holds no specs")
    func empty() throws {
        #expect(try NDJSON.parseSpecs("").isEmpty)
        #expect(try NDJSON.parseSpecs("\n  \n\n").isEmpty)
    }

    @Test("a line separator inside a JSON string does not split the line")
    func unicodeSeparator() throws {
        let specs = try NDJSON.parseSpecs("{\"kind\":\"delay\",\"seconds\":1,\"value\":\"a\u{2028}b\"}\n")
        #expect(specs == [JobSpec(.delay(DelaySpec(seconds: 1, value: "a\u{2028}b")))])
    }

    @Test(
        "a bad line is reported with its number and a stable code",
        arguments: [
            ("{\"kind\":\"delay\",\"seconds\":1}\n\nnot json\n", 3, APIError.Code.invalidJSON),
            ("{\"kind\":\"delay\"}", 1, .invalidSpec),
            ("{\"kind\":\"sleep\",\"seconds\":1}", 1, .unknownKind),
            ("{\"kind\":\"fetch\",\"url\":\"ftp://example.com/\"}", 1, .invalidURL),
            ("{\"kind\":\"delay\",\"seconds\":-1}", 1, .invalidSpec),
            ("\n{\"kind\":\"delay\",\"seconds\":1,\"max_attempts\":0}", 2, .invalidSpec),
            ("[1,2]", 1, .invalidSpec),
        ])
    func badLine(text: String, line: Int, code: APIError.Code) {
        #expect {
            try NDJSON.parseSpecs(text)
        } throws: { error in
            guard let error = error as? NDJSON.LineError else { return false }
            return error.line == line && error.error.code == code
        }
    }

    @Test("a line that is an array, a string or null is named as not an object", arguments: ["[1,2]", "\"x\"", "null"])
    func notAnObject(line: String) {
        #expect {
            try NDJSON.parseSpecs(line)
        } throws: { error in
            (error as? NDJSON.LineError)?.error.message == "a job spec must be a JSON object"
        }
    }

    @Test("the error names the line and the field")
    func message() {
        #expect {
            try NDJSON.parseSpecs("{\"kind\":\"delay\",\"seconds\":1}\n{\"kind\":\"delay\"}")
        } throws: { error in
            String(describing: error) == "line 2: seconds is required [invalid_spec]"
        }
    }
}
