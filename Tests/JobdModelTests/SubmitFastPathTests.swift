import Foundation
import JobdModel
import Testing

/// `SubmitFastPath`: the bodies it reads decode to the same request through the strict
/// decoder; the ones it leaves (nil) are the decoder's to read or refuse.
@Suite struct SubmitFastPathTests {
    /// Bodies the fast path reads.
    static let read: [String] = [
        #"{"kind":"delay","seconds":0}"#,
        #" { "seconds" : 1.5 , "kind" : "delay" } "#,
        "{\n\t\"kind\": \"delay\",\r\n \"seconds\": 2e-3}",
        #"{"kind":"delay","seconds":1E2,"value":"Data 1"}"#,
        #"{"kind":"delay","seconds":0,"value":-42}"#,
        #"{"kind":"delay","seconds":0,"value":0}"#,
        #"{"kind":"delay","seconds":0,"value":1}"#,
        #"{"kind":"delay","seconds":0,"value":true}"#,
        #"{"kind":"delay","seconds":0,"value":false}"#,
        #"{"kind":"delay","seconds":0,"value":null}"#,
        #"{"kind":"delay","seconds":0,"value":"ünï — 😀"}"#,
        #"{"kind":"delay","seconds":0,"fail":"boom","timeout":3}"#,
        #"{"kind":"delay","seconds":0.1,"fail":null,"timeout":null,"max_attempts":null}"#,
        #"{"kind":"delay","seconds":0,"max_attempts":3,"priority":-7,"on_interrupt":"fail"}"#,
        #"{"kind":"delay","seconds":0,"key":"k-1","key_window":60.5,"tags":["a","b.c:d-e_f"]}"#,
        #"{"kind":"delay","seconds":0,"after":[1,22,333],"on_dependency_failure":"run"}"#,
        #"{"kind":"delay","seconds":0,"tags":[],"after":[]}"#,
        #"{"kind":"fetch","url":"http://127.0.0.1:8080/a?b=c"}"#,
        #"{"kind":"fetch","url":"https://example.com/","max_body_bytes":1024,"timeout":5}"#,
        #"{"jobs":[{"kind":"delay","seconds":1},{"kind":"fetch","url":"http://x/"}]}"#,
        #"{"jobs":[]}"#,
        #" {"jobs" : [ {"kind":"delay","seconds":0} ] } "#,
        #"{"kind":"delay","seconds":0.000e-5,"timeout":0.0}"#,
        #"{"kind":"delay","seconds":0.30000000000000004441,"timeout":123456789012345678901234567890}"#,
        #"{"kind":"delay","seconds":0,"priority":-9223372036854775808,"max_attempts":9223372036854775807}"#,
        // Read, then refused by validation, as the decoder's reading would be.
        #"{"kind":"delay","seconds":-1}"#,
        #"{"kind":"fetch","url":"not a url"}"#,
        #"{"kind":"delay","seconds":0,"after":[5],"key":""}"#,
    ]

    /// Bodies it leaves to the decoder.
    static let left: [String] = [
        #"{"kind":"delay","seconds":0,"url":"http://x/"}"#,  // a fetch field on a delay
        #"{"kind":"fetch","url":"http://x/","seconds":1}"#,
        #"{"kind":"fetch","url":"http://x/","value":null}"#,
        #"{"kind":"delay","seconds":0,"timout":3}"#,  // unknown field
        #"{"kind":"delay","seconds":0,"seconds":1}"#,  // repeated field
        #"{"kind":"delay","seconds":0,"fail":null,"fail":"x"}"#,  // repeated, the first null
        #"{"kind":"delay","kind":"delay","seconds":0}"#,
        #"{"kind":"delay","seconds":"1"}"#,
        #"{"kind":"delay","seconds":01}"#,
        #"{"kind":"delay","seconds":1.}"#,
        #"{"kind":"delay","seconds":-0}"#,
        #"{"kind":"delay","seconds":1e999}"#,
        #"{"kind":"delay","seconds":1e-400}"#,  // underflows to 0: the decoder refuses it
        #"{"kind":"delay","seconds":5e-324}"#,  // subnormal
        #"{"kind":"delay","seconds":-0.0}"#,
        #"{"kind":"delay","seconds":0,"value":1.5}"#,
        #"{"kind":"delay","seconds":0,"value":[1]}"#,
        #"{"kind":"delay","seconds":0,"value":{"a":1}}"#,
        #"{"kind":"delay","seconds":0,"value":99999999999999999999}"#,
        #"{"kind":"delay","seconds":0,"value":"a\"b"}"#,
        #"{"kind":"delay","seconds":0,"max_attempts":3.0}"#,
        #"{"kind":"delay","seconds":0,"after":["@0"]}"#,
        #"{"kind":"delay","seconds":0,"after":[0]}"#,
        #"{"kind":"delay","seconds":0,"run_at":"2030-01-01T00:00:00Z"}"#,
        #"{"kind":"fetch","url":"http:\/\/x\/"}"#,
        #"{"kind":"fetch","url":"http://x/","headers":{"a":"b"}}"#,
        #"{"kind":"nope","seconds":0}"#,
        #"{"kind":null,"seconds":0}"#,
        #"{"seconds":0}"#,
        #"{}"#,
        #"{"jobs":[{"kind":"delay","seconds":0}],"x":1}"#,
        #"{"kind":"delay","jobs":[]}"#,
        #"{"kind":"delay","seconds":0}x"#,
        #"{"kind":"delay","seconds":0,}"#,
        #"[{"kind":"delay","seconds":0}]"#,
        "",
    ]

    @Test("a body it reads decodes to the same request", arguments: read)
    func sameAsDecoder(_ body: String) throws {
        let data = Data(body.utf8)
        let fast = try #require(SubmitFastPath.parse(data))
        let decoded = try JSONCoding.makeDecoder(strict: true).decode(SubmitJobsRequest.self, from: data)
        #expect(fast == decoded)
    }

    @Test("a stored spec it reads decodes the same through the lenient decoder", arguments: read)
    func storedSpec(_ body: String) throws {
        guard case .single(let spec)? = SubmitFastPath.parse(Data(body.utf8)) else { return }
        // As stored: the encoder's text (which reads back as the spec), and with
        // PostgreSQL's jsonb spacing (crudely: inside strings too, so it is compared with
        // the decoder only).
        let stored = String(decoding: try JSONCoding.makeEncoder().encode(spec), as: UTF8.self)
        #expect(SubmitFastPath.spec(stored) == spec)
        let spaced = stored.replacingOccurrences(of: ",", with: ", ").replacingOccurrences(of: ":", with: ": ")
        for text in [stored, spaced] {
            let fast = try #require(SubmitFastPath.spec(text), "\(text)")
            #expect(fast == (try JSONCoding.makeDecoder().decode(JobSpec.self, from: Data(text.utf8))))
        }
    }

    @Test("a body it leaves is the decoder's", arguments: left)
    func leftToDecoder(_ body: String) {
        #expect(SubmitFastPath.parse(Data(body.utf8)) == nil)
    }

    @Test("a 1,000-job batch of the bench's spec reads as the decoder reads it")
    func largeBatch() throws {
        let body =
            #"{"jobs":["# + Array(repeating: #"{"kind":"delay","seconds":0}"#, count: 1000).joined(separator: ",")
            + "]}"
        let data = Data(body.utf8)
        let fast = try #require(SubmitFastPath.parse(data))
        #expect(fast == (try JSONCoding.makeDecoder(strict: true).decode(SubmitJobsRequest.self, from: data)))
    }
}
