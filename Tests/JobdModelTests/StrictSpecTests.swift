import Foundation
import JobdModel
import Testing

/// Strict specs (issue 14): a request naming a field jobd does not know is refused with the
/// field and the nearest known one; what jobd answers is still read leniently.
@Suite struct StrictSpecTests {
    static func refusal(_ body: String) -> APIError? {
        do {
            _ = try SubmitJobsRequest.decode(Data(body.utf8), maxBatch: 100)
            return nil
        } catch {
            return error
        }
    }

    @Test("timout: 400 invalid_spec naming timout and suggesting timeout")
    func misspelt() throws {
        let error = try #require(Self.refusal(#"{"kind":"delay","seconds":1,"timout":5}"#))
        #expect(
            error
                == APIError(
                    .invalidSpec, "timout: unknown field timout for a delay job (did you mean timeout?)",
                    field: "timout"))
        #expect(error.httpStatus == 400)
    }

    /// Found by the fuzzer: an empty field name was refused with `field: ""`.
    @Test("an empty field name is named by its JSON spelling")
    func emptyName() throws {
        let error = try #require(Self.refusal(#"{"kind":"delay","seconds":1,"":{"a":"b"}}"#))
        #expect(error.code == .invalidSpec && error.field == #""""#, "\(error)")
        let nested = try #require(Self.refusal(#"{"jobs":[{"kind":"delay","seconds":1,"":1}]}"#))
        #expect(nested.field == #"jobs[0]."""#, "\(nested)")
    }

    @Test("in a batch, in a schedule's job and in a batch request, the path is named")
    func nested() throws {
        let inBatch = try #require(Self.refusal(#"{"jobs":[{"kind":"delay","seconds":1,"priorty":2}]}"#))
        #expect(inBatch.field == "jobs[0].priorty" && inBatch.message.contains("did you mean priority?"))
        do {
            _ = try ScheduleSpec.decode(Data(#"{"name":"x","cron":"@daily","job":{"kind":"delay","secnds":1}}"#.utf8))
            Issue.record("accepted")
        } catch {
            #expect(error.field == "job.secnds" && error.message.contains("did you mean seconds?"), "\(error)")
        }
        do {
            _ = try CreateBatchRequest.decode(
                Data(#"{"jobs":[{"kind":"fetch","url":"http://x","header":{}}]}"#.utf8), maxBatch: 10)
            Issue.record("accepted")
        } catch {
            #expect(error.field == "jobs[0].header" && error.message.contains("did you mean headers?"), "\(error)")
        }
    }

    @Test("every documented field is accepted, and records read back stay lenient")
    func knownAndLenient() throws {
        let all =
            #"{"kind":"fetch","url":"http://x","headers":{"A":"b"},"max_body_bytes":5,"timeout":1,"max_attempts":2,"priority":1,"run_at":"2027-01-01T00:00:00Z","on_interrupt":"fail","key":"k","key_window":5,"tags":["a"],"on_dependency_failure":"run"}"#
        #expect(Self.refusal(all) == nil)
        #expect(Self.refusal(#"{"kind":"delay","seconds":1,"value":{"any":"thing"},"fail":"x"}"#) == nil)
        // A newer daemon's spec with a field this client does not know still decodes.
        let newer = try JSONCoding.makeDecoder().decode(
            JobSpec.self, from: Data(#"{"kind":"delay","seconds":1,"a_future_field":true}"#.utf8))
        #expect(newer == JobSpec(.delay(DelaySpec(seconds: 1))))
    }
}
