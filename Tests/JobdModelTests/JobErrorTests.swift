import JobdModel
import Testing

@Suite struct JobErrorTests {
    /// Every code with its wire string. Renaming a code fails here.
    static let codes: [(code: JobError.Code, raw: String)] = [
        (.timeout, "timeout"),
        (.connectFailed, "connect_failed"),
        (.dnsFailed, "dns_failed"),
        (.tlsFailed, "tls_failed"),
        (.httpStatus, "http_status"),
        (.bodyTooLarge, "body_too_large"),
        (.invalidURL, "invalid_url"),
        (.redirectLimit, "redirect_limit"),
        (.cancelled, "cancelled"),
        (.interrupted, "interrupted"),
        (.connectionReset, "connection_reset"),
        (.jobFailed, "job_failed"),
        (.dependencyFailed, "dependency_failed"),
        (.internal, "internal"),
    ]

    @Test("every job error code keeps its stable raw string", arguments: JobErrorTests.codes)
    func rawValue(code: JobError.Code, raw: String) throws {
        #expect(code.rawValue == raw)
        #expect(code.description == raw)
        #expect(try encodeToString(code) == "\"\(raw)\"")
        #expect(try decode(JobError.Code.self, from: "\"\(raw)\"") == code)
    }

    @Test("no two job error codes share a raw string")
    func codesAreDistinct() {
        #expect(Set(Self.codes.map(\.raw)).count == Self.codes.count)
    }

    static let retryable: [(error: JobError, retryable: Bool)] = [
        (JobError(.httpStatus, "", httpStatus: 500), true),
        (JobError(.httpStatus, "", httpStatus: 502), true),
        (JobError(.httpStatus, "", httpStatus: 503), true),
        (JobError(.httpStatus, "", httpStatus: 599), true),
        (JobError(.httpStatus, "", httpStatus: 429), true),
        (JobError(.httpStatus, "", httpStatus: 404), false),
        (JobError(.httpStatus, "", httpStatus: 400), false),
        (JobError(.httpStatus, "", httpStatus: 408), false),
        (JobError(.httpStatus, "", httpStatus: 301), false),
        (JobError(.httpStatus, "", httpStatus: nil), false),
        (JobError(.timeout, ""), true),
        (JobError(.connectFailed, ""), true),
        (JobError(.dnsFailed, ""), true),
        (JobError(.connectionReset, ""), true),
        (JobError(.interrupted, ""), true),
        (JobError(.tlsFailed, ""), false),
        (JobError(.bodyTooLarge, ""), false),
        (JobError(.invalidURL, ""), false),
        (JobError(.redirectLimit, ""), false),
        (JobError(.cancelled, ""), false),
        (JobError(.jobFailed, ""), true),
        (JobError(.dependencyFailed, ""), false),
        (JobError(.internal, ""), false),
        (JobError(.init(rawValue: "something_new"), ""), false),
    ]

    @Test("isRetryable is true exactly for transient failures", arguments: JobErrorTests.retryable)
    func isRetryable(error: JobError, retryable: Bool) {
        #expect(error.isRetryable == retryable)
    }

    @Test("a job error survives a round trip and encodes http_status only when set")
    func wire() throws {
        let withStatus = JobError(.httpStatus, "the server answered 503", httpStatus: 503)
        let plain = JobError(.timeout, "ran past 30 s")
        #expect(try roundTrip(withStatus) == withStatus)
        #expect(try roundTrip(plain) == plain)
        #expect(
            try encodeToString(withStatus)
                == #"{"code":"http_status","http_status":503,"message":"the server answered 503"}"#)
        #expect(try encodeToString(plain) == #"{"code":"timeout","message":"ran past 30 s"}"#)
    }

    @Test("the description shows the message and the code")
    func description() {
        #expect(JobError(.jobFailed, "boom").description == "boom [job_failed]")
    }
}
