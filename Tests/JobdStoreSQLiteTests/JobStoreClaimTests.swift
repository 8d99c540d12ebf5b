import Foundation
import JobdModel
import JobdStore
import JobdStoreSQLite
import Testing

@Suite struct JobStoreClaimTests {
    @Test("only jobs whose run_at has come are claimed")
    func onlyDueJobs() async throws {
        try await withTemporaryStore { store in
            let past = try await store.insertOne(.delay(runAt: t0.addingTimeInterval(-10)))
            let now = try await store.insertOne(.delay(runAt: t0))
            let future = try await store.insertOne(.delay(runAt: t0.addingTimeInterval(0.5)))

            let claimed = try await store.claim(limit: 10, now: t0)
            #expect(claimed.map(\.id) == [past, now])
            #expect(try await store.requireJob(future).state == .queued)

            let later = try await store.claim(limit: 10, now: t0.addingTimeInterval(0.5))
            #expect(later.map(\.id) == [future])
        }
    }

    @Test("claims come by priority descending, then run_at, then id")
    func claimOrder() async throws {
        try await withTemporaryStore { store in
            let lowEarly = try await store.insertOne(.delay(priority: 0, runAt: t0.addingTimeInterval(-30)))
            let highLate = try await store.insertOne(.delay(priority: 5, runAt: t0.addingTimeInterval(-1)))
            let highEarly = try await store.insertOne(.delay(priority: 5, runAt: t0.addingTimeInterval(-20)))
            let midA = try await store.insertOne(.delay(priority: 1, runAt: t0.addingTimeInterval(-5)))
            let midB = try await store.insertOne(.delay(priority: 1, runAt: t0.addingTimeInterval(-5)))
            let negative = try await store.insertOne(.delay(priority: -1, runAt: t0.addingTimeInterval(-100)))

            let claimed = try await store.claim(limit: 10, now: t0)
            #expect(claimed.map(\.id) == [highEarly, highLate, midA, midB, lowEarly, negative])
            #expect(claimed.map(\.priority) == [5, 5, 1, 1, 0, -1])
        }
    }

    @Test("a claim takes at most limit jobs, the first ones in claim order")
    func respectsLimit() async throws {
        try await withTemporaryStore { store in
            let ids = try await store.insert((0..<5).map { NewJob.delay(priority: $0) }, now: t0).map(\.id)
            let first = try await store.claim(limit: 2, now: t0)
            #expect(first.map(\.id) == [ids[4], ids[3]])
            #expect(try await store.claim(limit: 0, now: t0).isEmpty)
            let rest = try await store.claim(limit: 10, now: t0)
            #expect(rest.map(\.id) == [ids[2], ids[1], ids[0]])
        }
    }

    @Test("a claim moves the job to running with a running attempt row")
    func claimCreatesAttempt() async throws {
        try await withTemporaryStore { store in
            let job = NewJob.delay(
                seconds: 3, priority: 2, runAt: t0.addingTimeInterval(-1), maxAttempts: 4, timeout: 9)
            let id = try await store.insertOne(job)
            let now = t0.addingTimeInterval(5)
            let claim = try #require(try await store.claim(limit: 1, now: now).first)

            #expect(claim.id == id)
            #expect(claim.attemptNumber == 1)
            #expect(claim.attemptsUsed == 1)
            #expect(claim.maxAttempts == 4)
            #expect(claim.timeout == 9)
            #expect(claim.priority == 2)
            #expect(claim.runAt == t0.addingTimeInterval(-1))
            #expect(claim.spec == job.spec)

            let record = try await store.requireJob(id)
            #expect(record.state == .running)
            #expect(record.attemptCount == 1)
            #expect(record.updatedAt == now)
            let attempt = try #require(record.attempts?.only)
            #expect(attempt.id == claim.attemptID)
            #expect(attempt.number == 1)
            #expect(attempt.outcome == .running)
            #expect(attempt.startedAt == now)
            #expect(attempt.finishedAt == nil)
            #expect(attempt.error == nil)
        }
    }

    @Test("a job is never claimed twice, even by concurrent claims")
    func neverTwice() async throws {
        try await withTemporaryStore { store in
            let ids = try await store.insert((0..<50).map { _ in NewJob.delay() }, now: t0).map(\.id)
            let claims = try await withThrowingTaskGroup(of: [ClaimedJob].self) { group in
                for _ in 0..<10 {
                    group.addTask { try await store.claim(limit: 7, now: t0) }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(claims.count == 50)
            #expect(Set(claims.map(\.id)) == Set(ids))
            #expect(Set(claims.map(\.attemptID)).count == 50)
            #expect(try await store.claim(limit: 10, now: t0).isEmpty)
            #expect(try await store.counts().running == 50)
        }
    }

    @Test("an empty queue claims nothing")
    func emptyQueue() async throws {
        try await withTemporaryStore { store async throws in
            #expect(try await store.claim(limit: 5, now: t0).isEmpty)
        }
    }
}

extension Collection {
    /// The single element, or nil when there are none or several.
    var only: Element? { count == 1 ? first : nil }
}
