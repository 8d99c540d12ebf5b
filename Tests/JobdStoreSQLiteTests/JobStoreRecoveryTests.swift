import Foundation
import JobdModel
import JobdStore
import JobdStoreSQLite
import Testing

@Suite struct JobStoreRecoveryTests {
    @Test("after a crash, running attempts become interrupted and jobs follow their on_interrupt policy")
    func recoversAfterReopen() async throws {
        try await withTemporaryDatabasePath { path in
            // The daemon that crashes: it claims three jobs and never finishes them.
            let crashed = try SQLiteJobStore(path: path)
            let retry = try await crashed.insertOne(.delay(priority: 2, onInterrupt: .retry))
            let fail = try await crashed.insertOne(.delay(priority: 1, onInterrupt: .fail))
            let untouched = try await crashed.insertOne(.delay(priority: 0, runAt: t0.addingTimeInterval(3600)))
            let done = try await crashed.insertOne(.delay(priority: 3))
            let claims = try await crashed.claim(limit: 10, now: t0)
            #expect(claims.map(\.id) == [done, retry, fail])
            _ = try await crashed.finish(
                done, attemptID: claims[0].attemptID, end: .succeeded(.delay(DelayResult(value: 1))), now: t0)
            try crashed.close()

            let store = try SQLiteJobStore(path: path)
            defer { try? store.close() }
            let now = t0.addingTimeInterval(10)
            let report = try await store.rescue(now: now)
            #expect(report == RescueReport(interruptedAttempts: 2, requeuedJobs: 1, failedJobs: 1))

            let requeued = try await store.requireJob(retry)
            #expect(requeued.state == .queued)
            #expect(requeued.error == nil)
            #expect(requeued.finishedAt == nil)
            let retryAttempt = try #require(requeued.attempts?.only)
            #expect(retryAttempt.outcome == .interrupted)
            #expect(retryAttempt.error?.code == .interrupted)
            #expect(retryAttempt.finishedAt == now)

            let failed = try await store.requireJob(fail)
            #expect(failed.state == .failed)
            #expect(failed.error?.code == .interrupted)
            #expect(failed.finishedAt == now)
            #expect(failed.attempts?.only?.outcome == .interrupted)

            #expect(try await store.requireJob(untouched).state == .queued)
            #expect(try await store.requireJob(done).state == .succeeded)
            #expect(try await store.requireJob(done).attempts?.only?.outcome == .succeeded)

            // The interrupted attempt does not use up one of max_attempts.
            let again = try #require(try await store.claim(limit: 10, now: now).only)
            #expect(again.id == retry)
            #expect(again.attemptNumber == 2)
            #expect(again.attemptsUsed == 1)
        }
    }

    @Test("recovery with nothing running changes nothing")
    func nothingToRecover() async throws {
        try await withTemporaryStore { store in
            let id = try await store.insertOne(.delay())
            #expect(
                try await store.rescue(now: t0)
                    == RescueReport(interruptedAttempts: 0, requeuedJobs: 0, failedJobs: 0))
            #expect(try await store.requireJob(id).state == .queued)
        }
    }

    @Test("a job interrupted maxInterruptions times fails with interrupted")
    func tooManyInterruptions() async throws {
        try await withTemporaryStore { store in
            let id = try await store.insertOne(.delay(maxAttempts: 1, onInterrupt: .retry))
            for round in 1...RescueReport.maxInterruptions {
                let claim = try #require(try await store.claim(limit: 1, now: t0).only, "round \(round)")
                #expect(claim.attemptNumber == round)
                #expect(claim.attemptsUsed == 1)
                let report = try await store.rescue(now: t0)
                if round < RescueReport.maxInterruptions {
                    #expect(report == RescueReport(interruptedAttempts: 1, requeuedJobs: 1, failedJobs: 0))
                    #expect(try await store.requireJob(id).state == .queued)
                } else {
                    #expect(report == RescueReport(interruptedAttempts: 1, requeuedJobs: 0, failedJobs: 1))
                }
            }
            let record = try await store.requireJob(id)
            #expect(record.state == .failed)
            #expect(record.error?.code == .interrupted)
            #expect(record.attempts?.count == RescueReport.maxInterruptions)
            #expect(record.attempts?.allSatisfy { $0.outcome == .interrupted } == true)
            #expect(try await store.claim(limit: 1, now: t0).isEmpty)
        }
    }

    @Test("a late finish of an attempt that recovery interrupted is fenced out")
    func finishAfterRecoveryIsFenced() async throws {
        try await withTemporaryStore { store in
            let claim = try await store.insertAndClaim()
            _ = try await store.rescue(now: t0)
            let late = AttemptEnd.succeeded(.delay(DelayResult(value: "late")))
            #expect(!(try await store.finish(claim.id, attemptID: claim.attemptID, end: late, now: t0)))
            #expect(try await store.requireJob(claim.id).state == .queued)
        }
    }
}
