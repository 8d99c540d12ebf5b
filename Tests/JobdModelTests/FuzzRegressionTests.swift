import Foundation
import JobdModel
import Testing

/// The request fuzzer's seeds and the crashes it found, run through the same checks as
/// the fuzzer (`RequestFuzzChecks`, `scripts/fuzz.sh`).
///
/// Every file of `Fuzz/corpus` is a `POST /v1/jobs` body: `ok-*` must be accepted,
/// `bad-*` and `crash-*` refused, and none may break an invariant. (The harness also
/// parses each file as a `jobctl gather` NDJSON file; that half needs JobdClient and runs
/// only in the fuzzer.)
@Suite struct FuzzRegressionTests {
    static let corpusDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // JobdModelTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // the package
        .appendingPathComponent("Fuzz/corpus")

    static let corpus: [String] =
        ((try? FileManager.default.contentsOfDirectory(atPath: corpusDirectory.path)) ?? [])
        .filter { !$0.hasPrefix(".") }.sorted()

    @Test("the seed corpus is there")
    func corpusExists() {
        #expect(Self.corpus.contains { $0.hasPrefix("ok-") })
        #expect(Self.corpus.contains { $0.hasPrefix("bad-") })
    }

    @Test("a corpus input passes the fuzzer's checks", arguments: corpus)
    func corpusInput(_ name: String) throws {
        let data = try Data(contentsOf: Self.corpusDirectory.appendingPathComponent(name))
        try RequestFuzzChecks.checkScheduleBody(data)
        if name.contains("schedule") {
            // A schedule body (`POST /v1/schedules`): ok- is accepted there, bad- refused.
            let accepted = (try? ScheduleSpec.decode(data)) != nil
            #expect(accepted == name.hasPrefix("ok-"), "\(name)")
            return
        }
        let outcome = try RequestFuzzChecks.checkSubmitBody(data)
        switch outcome {
        case .accepted(let request):
            #expect(!name.hasPrefix("bad-") && !name.hasPrefix("crash-"), "accepted: \(request)")
        case .refused(let error):
            #expect(!name.hasPrefix("ok-"), "refused: \(error)")
        }
    }

    /// Found by the fuzzer: a body of `null` was refused with `field: ""` and the message
    /// " must be a Dictionary<String, Any>, not null".
    @Test("a null body is refused like any other non-object, with no field")
    func nullBody() throws {
        let outcome = try RequestFuzzChecks.checkSubmitBody(Data("null".utf8))
        guard case .refused(let error) = outcome else {
            Issue.record("null was accepted")
            return
        }
        #expect(error == APIError(.invalidSpec, "the body must be a JSON object"))
        #expect(throws: APIError(.invalidSpec, "the body must be a JSON object")) {
            try SubmitJobsRequest.decode(Data(" null\n".utf8), maxBatch: 10)
        }
    }

    @Test("a null inside a batch still names its place")
    func nullInBatch() throws {
        let outcome = try RequestFuzzChecks.checkSubmitBody(Data(#"{"jobs":[null]}"#.utf8))
        guard case .refused(let error) = outcome else {
            Issue.record("a batch of null was accepted")
            return
        }
        #expect(error.code == .invalidSpec)
        #expect(error.field == "jobs[0]")
    }
}
