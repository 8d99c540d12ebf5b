import Foundation
import JobdModel
import JobdStore
import JobdStoreSQLite
import Testing

/// `settle`: the dispatcher's one round trip, finishes then a claim in one transaction.
@Suite struct JobStoreSettleTests {
    @Test("finishes and a claim commit together; a retry due now is claimed in the same round")
    func finishThenClaim() async throws {
        try await withTemporaryStore { store in
            let first = try await store.insertAndClaim(.delay(), now: t0)
            let second = try await store.insertAndClaim(.delay(), now: t0)
            let waiting = try await store.insertOne(.delay(runAt: t0))
            let outcome = try await store.settle(
                SettleRequest(
                    finishes: [
                        AttemptFinish(attempt: first.attempt, end: .succeeded(.delay(DelayResult(value: 1)))),
                        AttemptFinish(
                            attempt: second.attempt,
                            end: .failed(JobError(.jobFailed, "again"), result: nil, retryAt: t0)),
                    ], claim: ClaimRequest(limit: 5, now: t0)))
            #expect(outcome.recorded == [true, true])
            // The re-queued job (due now) and the waiting one; nothing is due later.
            #expect(Set(outcome.claimed.map(\.id)) == [second.id, waiting])
            #expect(outcome.nextRunAt == nil)
            #expect(try await store.requireJob(first.id).state == .succeeded)
            let retried = try await store.requireJob(second.id)
            #expect(retried.state == .running)
            #expect(retried.attempts?.map(\.outcome) == [.failed, .running])
        }
    }

    @Test("a fenced finish is reported not recorded and changes nothing; the rest are recorded")
    func fencedFinish() async throws {
        try await withTemporaryStore { store in
            let claim = try await store.insertAndClaim(.delay(), now: t0)
            let other = try await store.insertAndClaim(.delay(), now: t0)
            let result = JobResult.delay(DelayResult(value: .null))
            // Fenced by attempt number: a finish naming another attempt of the job is dropped.
            var stale = claim.attempt
            stale.number += 1
            let outcome = try await store.settle(
                SettleRequest(
                    finishes: [
                        AttemptFinish(attempt: stale, end: .succeeded(result)),
                        AttemptFinish(attempt: other.attempt, end: .succeeded(result)),
                    ], claim: ClaimRequest(limit: 0, now: t0)))
            #expect(outcome.recorded == [false, true])
            #expect(try await store.requireJob(claim.id).state == .running)
            #expect(try await store.requireJob(other.id).state == .succeeded)
        }
    }

    @Test("150 finishes in one round (three statements' worth): each is fenced alone and stores its own columns")
    func manyFinishes() async throws {
        try await withTemporaryStore { store in
            var claims: [ClaimedJob] = []
            for _ in 0..<150 { claims.append(try await store.insertAndClaim(.delay(), now: t0)) }
            let later = t0.addingTimeInterval(60)
            // Every third finish names an attempt that does not own its job; the others
            // cycle through a success, a retry, a final failure with a status, a cancel.
            let finishes = claims.enumerated().map { index, claim in
                var attempt = claim.attempt
                if index % 3 == 0 { attempt.number += 1 }
                let end: AttemptEnd =
                    switch index % 4 {
                    case 0: .succeeded(.delay(DelayResult(value: .int(Int64(index)))))
                    case 1: .failed(JobError(.jobFailed, "again \(index)"), result: nil, retryAt: later)
                    case 2:
                        .failed(
                            JobError(.httpStatus, "status \(index)", httpStatus: 500 + index), result: nil, retryAt: nil
                        )
                    default: .cancelled(JobError(.cancelled, "cancelled \(index)"))
                    }
                return AttemptFinish(attempt: attempt, end: end)
            }
            let outcome = try await store.settle(
                SettleRequest(finishes: finishes, claim: ClaimRequest(limit: 0, now: t0)))
            #expect(outcome.recorded == (0..<150).map { $0 % 3 != 0 })
            for (index, claim) in claims.enumerated() {
                let job = try await store.requireJob(claim.id)
                let attempt = try #require(job.attempts?.last)
                if index % 3 == 0 {
                    #expect(job.state == .running, "job \(index)")
                    #expect(attempt.outcome == .running, "job \(index)")
                    continue
                }
                switch index % 4 {
                case 0:
                    #expect(job.state == .succeeded, "job \(index)")
                    #expect(job.result == .delay(DelayResult(value: .int(Int64(index)))), "job \(index)")
                    #expect(attempt.outcome == .succeeded, "job \(index)")
                case 1:
                    #expect(job.state == .queued, "job \(index)")
                    #expect(job.runAt == later, "job \(index)")
                    #expect(attempt.error?.message == "again \(index)", "job \(index)")
                case 2:
                    #expect(job.state == .failed, "job \(index)")
                    #expect(job.error?.httpStatus == 500 + index, "job \(index)")
                    #expect(attempt.error?.httpStatus == 500 + index, "job \(index)")
                default:
                    #expect(job.state == .cancelled, "job \(index)")
                    #expect(attempt.outcome == .cancelled, "job \(index)")
                }
            }
        }
    }

    @Test("a short claim reports the earliest future run_at from the same transaction")
    func nextRunAt() async throws {
        try await withTemporaryStore { store in
            _ = try await store.insertOne(.delay(runAt: t0.addingTimeInterval(30)))
            _ = try await store.insertOne(.delay(runAt: t0.addingTimeInterval(5)))
            let outcome = try await store.settle(SettleRequest(claim: ClaimRequest(limit: 4, now: t0)))
            #expect(outcome.claimed.isEmpty)
            #expect(outcome.nextRunAt == t0.addingTimeInterval(5))
        }
    }

    @Test("the claim reads the queue index, never a scan and sort of the queue")
    func claimPlan() async throws {
        try await withTemporaryStore { store in
            let plan = try await store.claimPlan()
            #expect(plan.contains { $0.contains("jobs_queue") })
            #expect(!plan.contains { $0.contains("TEMP B-TREE") })
        }
    }
}
