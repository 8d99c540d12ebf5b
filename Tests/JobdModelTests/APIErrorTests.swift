import JobdModel
import Testing

@Suite struct APIErrorTests {
    /// Every code with its wire string and HTTP status. Renaming a code fails here.
    static let codes: [(code: APIError.Code, raw: String, status: Int)] = [
        (.invalidJSON, "invalid_json", 400),
        (.unknownKind, "unknown_kind", 400),
        (.invalidSpec, "invalid_spec", 400),
        (.invalidURL, "invalid_url", 400),
        (.invalidQuery, "invalid_query", 400),
        (.jobNotFound, "job_not_found", 404),
        (.batchNotFound, "batch_not_found", 404),
        (.scheduleNotFound, "schedule_not_found", 404),
        (.scheduleExists, "schedule_exists", 409),
        (.routeNotFound, "route_not_found", 404),
        (.methodNotAllowed, "method_not_allowed", 405),
        (.invalidState, "invalid_state", 409),
        (.notFinished, "not_finished", 409),
        (.noResult, "no_result", 409),
        (.payloadTooLarge, "payload_too_large", 413),
        (.batchTooLarge, "batch_too_large", 413),
        (.shuttingDown, "shutting_down", 503),
        (.diskFull, "disk_full", 507),
        (.databaseBusy, "database_busy", 503),
        (.databaseUnavailable, "database_unavailable", 503),
        (.tooManyConnections, "too_many_connections", 503),
        (.notSupported, "not_supported", 501),
        (.internal, "internal", 500),
    ]

    @Test("every error code keeps its stable raw string", arguments: APIErrorTests.codes)
    func rawValue(code: APIError.Code, raw: String, status: Int) throws {
        #expect(code.rawValue == raw)
        #expect(code.description == raw)
        #expect(try encodeToString(code) == "\"\(raw)\"")
        #expect(try decode(APIError.Code.self, from: "\"\(raw)\"") == code)
    }

    @Test("every error code maps to its HTTP status", arguments: APIErrorTests.codes)
    func httpStatus(code: APIError.Code, raw: String, status: Int) {
        #expect(APIError(code, "x").httpStatus == status)
    }

    @Test("no two codes share a raw string")
    func codesAreDistinct() {
        #expect(Set(Self.codes.map(\.raw)).count == Self.codes.count)
    }

    @Test("an unknown code decodes and answers 500")
    func unknownCode() throws {
        let code = try decode(APIError.Code.self, from: #""teapot""#)
        #expect(code.rawValue == "teapot")
        #expect(APIError(code, "x").httpStatus == 500)
    }

    @Test("an error with and without a field survives a round trip")
    func roundTrips() throws {
        let withField = APIError(.invalidSpec, "seconds must be a number 0 or more", field: "jobs[3].seconds")
        let withoutField = APIError(.shuttingDown, "jobd is stopping")
        #expect(try roundTrip(withField) == withField)
        #expect(try roundTrip(withoutField) == withoutField)
        #expect(try roundTrip(APIErrorResponse(error: withField)) == APIErrorResponse(error: withField))
    }

    @Test("the error body on the wire is {\"error\":{code,message,field}}")
    func goldenBody() throws {
        #expect(
            try encodeToString(APIErrorResponse(error: APIError(.invalidURL, "bad url", field: "url")))
                == #"{"error":{"code":"invalid_url","field":"url","message":"bad url"}}"#)
        #expect(
            try encodeToString(APIErrorResponse(error: APIError(.jobNotFound, "no job 9")))
                == #"{"error":{"code":"job_not_found","message":"no job 9"}}"#)
    }

    @Test("the description shows the message and the code")
    func description() {
        #expect(APIError(.diskFull, "the disk is full").description == "the disk is full [disk_full]")
    }
}
