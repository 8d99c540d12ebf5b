import Foundation
import JobdModel
import Testing

/// The wire of batches (`/v1/batches`): golden JSON for every body, and the request's
/// validation with the exact `field` of each refusal.
@Suite struct BatchBodiesTests {
    static let maxBatch = 10_000

    static func refusal(_ body: String) -> APIError? {
        do {
            _ = try CreateBatchRequest.decode(Data(body.utf8), maxBatch: maxBatch)
            return nil
        } catch {
            return error
        }
    }

    @Test("a create request decodes its jobs in order, its label and on_complete")
    func createRequest() throws {
        let request = try CreateBatchRequest.decode(
            Data(
                #"{"jobs":[{"kind":"delay","seconds":1,"value":"Data 1"},{"kind":"delay","seconds":2}],"label":"seed","on_complete":{"kind":"fetch","url":"http://127.0.0.1:8080/done/{batch_id}"}}"#
                    .utf8), maxBatch: Self.maxBatch)
        #expect(request.jobs.count == 2 && request.label == "seed")
        #expect(request.jobs[0] == JobSpec(.delay(DelaySpec(seconds: 1, value: .string("Data 1")))))
        #expect(
            request.onComplete?.replacingBatchID(BatchID(42))
                == JobSpec(.fetch(FetchSpec(url: "http://127.0.0.1:8080/done/42"))))
        #expect(try roundTrip(request) == request)
    }

    @Test(
        "a bad create request is refused with the exact field",
        arguments: [
            (#"{"jobs":[]}"#, "invalid_spec", "jobs"),
            (#"{"label":"x"}"#, "invalid_spec", "jobs"),
            (
                #"{"jobs":[{"kind":"delay","seconds":1},{"kind":"delay","seconds":-1}]}"#, "invalid_spec",
                "jobs[1].seconds"
            ),
            (#"{"jobs":[{"kind":"delay","seconds":1,"key":"k"}]}"#, "invalid_spec", "jobs[0].key"),
            (#"{"jobs":[{"kind":"delay","seconds":1}],"label":""}"#, "invalid_spec", "label"),
            (
                #"{"jobs":[{"kind":"delay","seconds":1}],"on_complete":{"kind":"fetch","url":"ftp://x/{batch_id}"}}"#,
                "invalid_url", "on_complete.url"
            ),
            (
                #"{"jobs":[{"kind":"delay","seconds":1}],"on_complete":{"kind":"nap"}}"#, "unknown_kind",
                "on_complete.kind"
            ),
        ])
    func refused(body: String, code: String, field: String) throws {
        let error = try #require(Self.refusal(body), "accepted: \(body)")
        #expect(error.code.rawValue == code, "\(error)")
        #expect(error.field == field, "\(error)")
    }

    @Test("a batch over the limit is batch_too_large")
    func tooLarge() throws {
        let jobs = Array(repeating: #"{"kind":"delay","seconds":0}"#, count: 3).joined(separator: ",")
        do {
            _ = try CreateBatchRequest.decode(Data(#"{"jobs":[\#(jobs)]}"#.utf8), maxBatch: 2)
            Issue.record("accepted")
        } catch {
            #expect(error.code == .batchTooLarge && error.field == "jobs")
        }
    }

    static func record() throws -> BatchRecord {
        var counts = BatchCounts()
        counts.succeeded = 2
        counts.failed = 1
        return BatchRecord(
            id: 4, label: "seed", state: .failed, size: 3, counts: counts,
            createdAt: try utc("2026-12-07T04:55:00Z"), finishedAt: try utc("2026-12-07T04:55:03Z"),
            submitterUID: 1000, onCompleteID: 13, jobIDs: [10, 11, 12])
    }

    @Test("golden JSON: create answer, batch record, wait answer, list page, cancel answer")
    func golden() throws {
        let created = CreateBatchResponse(id: 4, jobIDs: [10, 11, 12], onCompleteID: 13)
        #expect(try encodeToString(created) == #"{"id":4,"job_ids":[10,11,12],"on_complete_id":13}"#)
        #expect(try roundTrip(created) == created)

        let record = try Self.record()
        let recordJSON =
            #"{"counts":{"cancelled":0,"failed":1,"queued":0,"running":0,"succeeded":2,"waiting":0},"created_at":"2026-12-07T04:55:00.000Z","finished_at":"2026-12-07T04:55:03.000Z","id":4,"job_ids":[10,11,12],"label":"seed","on_complete_id":13,"size":3,"state":"failed","submitter_uid":1000}"#
        #expect(try encodeToString(record) == recordJSON)
        #expect(try roundTrip(record) == record)

        let wait = BatchWaitResponse(
            batch: record,
            results: [
                BatchResultItem(
                    id: 10, state: .succeeded, result: .delay(DelayResult(value: .string("Data 1"))), error: nil),
                BatchResultItem(id: 12, state: .failed, result: nil, error: JobError(.jobFailed, "boom")),
            ])
        let waitJSON = try encodeToString(wait)
        #expect(waitJSON.hasPrefix(#"{"counts":"#), "the batch's fields are at the top level: \(waitJSON)")
        #expect(
            waitJSON.contains(
                #""results":[{"id":10,"result":{"kind":"delay","value":"Data 1"},"state":"succeeded"},{"error":{"code":"job_failed","message":"boom"},"id":12,"state":"failed"}]"#
            ), "\(waitJSON)")
        #expect(try roundTrip(wait) == wait)
        let running = BatchWaitResponse(batch: record, results: nil)
        #expect(!(try encodeToString(running)).contains("results"))

        let page = BatchListResponse(batches: [], nextAfter: 3)
        #expect(try encodeToString(page) == #"{"batches":[],"next_after":3}"#)
        let cancelled = BatchCancelResponse(id: 4, cancelled: 2, stopping: 1)
        #expect(try encodeToString(cancelled) == #"{"cancelled":2,"id":4,"stopping":1}"#)
    }

    @Test("a batch_completed event names the batch, its end state and its on_complete job")
    func event() throws {
        let event = JobEvent(
            id: 9, type: .batchCompleted, jobID: 13, state: .failed, time: try utc("2026-12-07T04:55:03Z"),
            batchID: 4)
        #expect(
            try encodeToString(event)
                == #"{"batch_id":4,"id":9,"job_id":13,"state":"failed","time":"2026-12-07T04:55:03.000Z","type":"batch_completed"}"#
        )
        #expect(try roundTrip(event) == event)
    }

    @Test("stats from a daemon without the waiting state still decode")
    func olderStats() throws {
        let stats = try decode(
            StatsResponse.self,
            from:
                #"{"cancelled":5,"commits":9,"failed":4,"finished":12,"max_running":6,"paused":false,"queued":1,"running":2,"submitted":15,"succeeded":3,"uptime_seconds":1.5,"workers":8}"#
        )
        #expect(stats.waiting == 0 && stats.queued == 1)
    }
}

/// `after` on the wire and its validation: every refusal names its entry.
@Suite struct DependencySpecTests {
    static func refusal(_ body: String) -> APIError? {
        do {
            _ = try SubmitJobsRequest.decode(Data(body.utf8), maxBatch: 10_000)
            return nil
        } catch {
            return error
        }
    }

    static func batch(_ afters: [String?]) -> String {
        let jobs = afters.map { after in
            #"{"kind":"delay","seconds":0"# + (after.map { #","after":\#($0)"# } ?? "") + "}"
        }
        return #"{"jobs":["# + jobs.joined(separator: ",") + "]}"
    }

    @Test("after takes ids and @N positions and encodes them back as given")
    func wire() throws {
        let spec = try decode(
            JobSpec.self, from: #"{"kind":"delay","seconds":0,"after":[17,"@2"],"on_dependency_failure":"run"}"#)
        #expect(spec.after == [.job(17), .position(2)] && spec.onDependencyFailure == .run)
        #expect(
            try encodeToString(spec) == #"{"after":[17,"@2"],"kind":"delay","on_dependency_failure":"run","seconds":0}"#
        )
        #expect(spec.resolvingPositions([1, 2, 30]).after == [.job(17), .job(30)])
        #expect(spec.resolvingPositions([1, 2, 30]).parentIDs == [17, 30])
    }

    @Test(
        "a bad after is 400 invalid_spec naming the entry",
        arguments: [
            (batch([nil, #"["@1"]"#]), "jobs[1].after[0]"),  // itself
            (batch([nil, nil, #"[1,"@7"]"#]), "jobs[2].after[1]"),  // past the end of a batch of 3
            (batch([#"["@2"]"#, #"["@0"]"#, #"["@1"]"#]), "jobs[1].after[0]"),  // a cycle 0 → 2 → 1 → 0, closed at 1
            (batch([#"["@1"]"#, #"["@0"]"#]), "jobs[1].after[0]"),  // a cycle of two
            (#"{"kind":"delay","seconds":0,"after":["@0"]}"#, "after[0]"),  // a position outside a batch
            (#"{"kind":"delay","seconds":0,"after":[0]}"#, "after[0]"),  // not an id
            (#"{"kind":"delay","seconds":0,"after":["x"]}"#, "after[0]"),
            (#"{"kind":"delay","seconds":0,"after":[1],"on_dependency_failure":"skip"}"#, "on_dependency_failure"),
        ])
    func refused(body: String, field: String) throws {
        let error = try #require(Self.refusal(body), "accepted: \(body)")
        #expect(error.code == .invalidSpec, "\(error)")
        #expect(error.field == field, "\(error)")
    }

    @Test("a diamond and a long chain by position are accepted")
    func accepted() {
        #expect(Self.refusal(Self.batch([nil, #"["@0"]"#, #"["@0"]"#, #"["@1","@2"]"#])) == nil)
        let chain = Self.batch([nil] + (1..<1000).map { #"["@\#($0 - 1)"]"# })
        #expect(Self.refusal(chain) == nil)
    }
}
