import Foundation
import JobdModel
import JobdStore
import JobdStoreSQLite
import Testing

@Suite struct JobStoreFinishTests {
    static let unavailable = JobError(.httpStatus, "the server answered 503", httpStatus: 503)
    static let response503 = JobResult.fetch(
        FetchResult(
            status: 503, headers: ["retry-after": "30"], body: "busy", bodyEncoding: .utf8, size: 4, elapsedMs: 2.5,
            finalURL: "https://example.com/"))

    @Test("a success stores the result and finished_at and ends the attempt")
    func succeeded() async throws {
        try await withTemporaryStore { store in
            let claim = try await store.insertAndClaim(.delay(value: "Data 1"))
            let end = t0.addingTimeInterval(2)
            let result = JobResult.delay(DelayResult(value: "Data 1"))
            #expect(try await store.finish(claim.id, attemptID: claim.attemptID, end: .succeeded(result), now: end))

            let record = try await store.requireJob(claim.id)
            #expect(record.state == .succeeded)
            #expect(record.result == result)
            #expect(record.error == nil)
            #expect(record.finishedAt == end)
            #expect(record.updatedAt == end)
            let attempt = try #require(record.attempts?.only)
            #expect(attempt.outcome == .succeeded)
            #expect(attempt.finishedAt == end)
            #expect(attempt.error == nil)
            #expect(try await store.counts().succeeded == 1)
        }
    }

    @Test("a failure with retryAt re-queues the job at that time and keeps the error on the attempt")
    func failedWithRetry() async throws {
        try await withTemporaryStore { store in
            let claim = try await store.insertAndClaim(.fetch())
            let end = t0.addingTimeInterval(1)
            let retryAt = t0.addingTimeInterval(31)
            let error = JobError(.timeout, "ran past 30 s")
            #expect(
                try await store.finish(
                    claim.id, attemptID: claim.attemptID, end: .failed(error, result: nil, retryAt: retryAt), now: end))

            let record = try await store.requireJob(claim.id)
            #expect(record.state == .queued)
            #expect(record.runAt == retryAt)
            #expect(record.finishedAt == nil)
            #expect(record.error == nil)
            let attempt = try #require(record.attempts?.only)
            #expect(attempt.outcome == .failed)
            #expect(attempt.error == error)
            #expect(attempt.finishedAt == end)

            #expect(try await store.claim(limit: 1, now: retryAt.addingTimeInterval(-1)).isEmpty)
            let retry = try #require(try await store.claim(limit: 1, now: retryAt).first)
            #expect(retry.id == claim.id)
            #expect(retry.attemptNumber == 2)
            #expect(retry.attemptsUsed == 2)
            #expect(retry.attemptID != claim.attemptID)
        }
    }

    @Test("a final failure ends failed with the error and keeps an http_status response")
    func failedFinal() async throws {
        try await withTemporaryStore { store in
            let claim = try await store.insertAndClaim(.fetch())
            let end = t0.addingTimeInterval(1)
            #expect(
                try await store.finish(
                    claim.id, attemptID: claim.attemptID,
                    end: .failed(Self.unavailable, result: Self.response503, retryAt: nil), now: end))

            let record = try await store.requireJob(claim.id)
            #expect(record.state == .failed)
            #expect(record.error == Self.unavailable)
            #expect(record.result == Self.response503)
            #expect(record.finishedAt == end)
            let attempt = try #require(record.attempts?.only)
            #expect(attempt.outcome == .failed)
            #expect(attempt.error == Self.unavailable)
            #expect(try await store.claim(limit: 1, now: end.addingTimeInterval(3600)).isEmpty)
        }
    }

    @Test("a cancelled attempt ends the job cancelled with the error")
    func cancelled() async throws {
        try await withTemporaryStore { store in
            let claim = try await store.insertAndClaim()
            let error = JobError(.cancelled, "cancelled by user")
            #expect(try await store.finish(claim.id, attemptID: claim.attemptID, end: .cancelled(error), now: t0))

            let record = try await store.requireJob(claim.id)
            #expect(record.state == .cancelled)
            #expect(record.error == error)
            #expect(record.finishedAt == t0)
            #expect(record.attempts?.only?.outcome == .cancelled)
            #expect(record.attempts?.only?.error == error)
        }
    }

    @Test("an interrupted attempt re-queues the job without using one of its attempts")
    func interrupted() async throws {
        try await withTemporaryStore { store in
            let claim = try await store.insertAndClaim(.delay(maxAttempts: 2))
            #expect(claim.attemptNumber == 1)
            #expect(claim.attemptsUsed == 1)
            let stop = t0.addingTimeInterval(3)
            let error = JobError(.interrupted, "the daemon is stopping")
            #expect(try await store.finish(claim.id, attemptID: claim.attemptID, end: .interrupted(error), now: stop))

            let record = try await store.requireJob(claim.id)
            #expect(record.state == .queued)
            #expect(record.runAt == stop)
            #expect(record.finishedAt == nil)
            #expect(record.error == nil)
            #expect(record.attempts?.only?.outcome == .interrupted)
            #expect(record.attempts?.only?.error == error)

            let again = try #require(try await store.claim(limit: 1, now: stop).first)
            #expect(again.id == claim.id)
            #expect(again.attemptNumber == 2)
            #expect(again.attemptsUsed == 1)
            #expect(try await store.requireJob(claim.id).attemptCount == 2)
        }
    }

    @Test("a finish with a stale attempt id is fenced out and changes nothing")
    func staleAttemptIsFenced() async throws {
        try await withTemporaryStore { store in
            let first = try await store.insertAndClaim()
            let interrupted = JobError(.interrupted, "stop")
            #expect(
                try await store.finish(first.id, attemptID: first.attemptID, end: .interrupted(interrupted), now: t0))

            // Queued again: the old attempt may not finish it.
            let success = AttemptEnd.succeeded(.delay(DelayResult(value: "late")))
            #expect(!(try await store.finish(first.id, attemptID: first.attemptID, end: success, now: t0)))
            #expect(try await store.requireJob(first.id).state == .queued)

            // Running under a new attempt: the old one still may not finish it.
            let second = try #require(try await store.claim(limit: 1, now: t0).first)
            let before = try await store.requireJob(first.id)
            #expect(
                !(try await store.finish(
                    first.id, attemptID: first.attemptID, end: success, now: t0.addingTimeInterval(9))))
            #expect(
                !(try await store.finish(
                    first.id, attemptID: first.attemptID, end: .failed(interrupted, result: nil, retryAt: nil),
                    now: t0.addingTimeInterval(9))))
            let after = try await store.requireJob(first.id)
            #expect(after == before)
            #expect(after.state == .running)
            #expect(after.attempts?.last?.outcome == .running)
            #expect(after.attempts?.first?.outcome == .interrupted)

            // The current attempt can.
            #expect(try await store.finish(first.id, attemptID: second.attemptID, end: success, now: t0))
            #expect(try await store.requireJob(first.id).state == .succeeded)
        }
    }

    @Test("a finish of a finished job or an unknown job returns false")
    func finishTwice() async throws {
        try await withTemporaryStore { store in
            let claim = try await store.insertAndClaim()
            let success = AttemptEnd.succeeded(.delay(DelayResult(value: 1)))
            #expect(try await store.finish(claim.id, attemptID: claim.attemptID, end: success, now: t0))
            let done = try await store.requireJob(claim.id)
            #expect(
                !(try await store.finish(
                    claim.id, attemptID: claim.attemptID, end: .cancelled(JobError(.cancelled, "x")), now: t0)))
            #expect(try await store.requireJob(claim.id) == done)
            #expect(!(try await store.finish(999, attemptID: claim.attemptID, end: success, now: t0)))
        }
    }
}
