import Foundation
import JobdModel
import JobdStore
import Synchronization
import Testing

/// One case of the store conformance suite: a behaviour every `JobStore` engine must have,
/// written once against the protocol.
///
/// An engine's test target runs every case against a fresh store of its own (SQLite now,
/// PostgreSQL next), the way swift-jobs runs one set of tests against every queue driver:
///
/// ```swift
/// @Test(arguments: StoreConformance.cases)
/// func conformance(_ check: ConformanceCase) async throws {
///     try await withFreshStore { subject in try await check.run(subject) }
/// }
/// ```
public struct ConformanceCase: Sendable, CustomTestStringConvertible {
    /// What the case shows, as a test name.
    public let name: String
    /// The case's body, given a fresh, empty store.
    public let run: @Sendable (ConformanceSubject) async throws -> Void

    init(name: String, run: @escaping @Sendable (any JobStore) async throws -> Void) {
        self.name = name
        self.run = { subject in try await run(subject.store) }
    }

    init(name: String, subject run: @escaping @Sendable (ConformanceSubject) async throws -> Void) {
        self.name = name
        self.run = run
    }

    public var testDescription: String { name }
}

/// What a case runs against: a fresh store, and a way to make its owner die.
public struct ConformanceSubject: Sendable {
    /// The store.
    public let store: any JobStore
    /// Ends `store`'s owner as a crash would (SQLite: the process that held the file;
    /// PostgreSQL: the node, whose lease then runs out) and returns a store of a new owner
    /// on the same database.
    public let crashAndReopen: @Sendable () async throws -> any JobStore

    public init(store: any JobStore, crashAndReopen: @escaping @Sendable () async throws -> any JobStore) {
        self.store = store
        self.crashAndReopen = crashAndReopen
    }
}

/// The conformance suite's cases.
public enum StoreConformance {
    /// A fixed instant: whole seconds keep stored times exact on every engine.
    static let t0 = Date(timeIntervalSince1970: 1_795_616_704)

    /// Every case, in a stable order.
    public static let cases: [ConformanceCase] =
        [
            ConformanceCase(
                name: "insert returns ids in order; a repeated key returns the first job", run: insertAndKey),
            ConformanceCase(name: "max_queued refuses a whole insert that does not fit", run: maxQueued),
            ConformanceCase(name: "claims take priority, then run_at, then id; future jobs wait", run: claimOrder),
            ConformanceCase(name: "a finish is fenced by attempt number: a stale end changes nothing", run: fencing),
            ConformanceCase(name: "a retry due now is claimed in the same settle round", run: settleRetry),
            ConformanceCase(
                name: "a stale finish beside the owning one of the same job in one round: only the owner's is recorded",
                run: staleBesideOwner),
            ConformanceCase(
                name: "cancel: queued at once, running names its attempt, terminal refused", run: cancelRace),
            ConformanceCase(name: "retry re-queues a finished job with a fresh budget", run: retryFinished),
            ConformanceCase(
                name: "rescue interrupts dead owners' attempts and fences their late ends", subject: rescue),
            ConformanceCase(name: "prune deletes only finished jobs older than the cutoff", run: prune),
            ConformanceCase(
                name: "the change feed reports inserts, recorded finishes, cancels and retries", run: changeFeed),
        ] + batchCases + dependencyCases + sharingCases + scheduleCases + maintenanceCases + summaryCases

    static func delay(
        _ value: Int64 = 0, priority: Int = 0, runAt: Date = t0, maxAttempts: Int = 3, key: String? = nil,
        onInterrupt: InterruptPolicy = .retry, submitterUID: UInt32? = nil
    ) -> NewJob {
        NewJob(
            spec: JobSpec(
                .delay(DelaySpec(seconds: 0, value: .int(value))), maxAttempts: maxAttempts, priority: priority,
                onInterrupt: onInterrupt, key: key),
            priority: priority, runAt: runAt, maxAttempts: maxAttempts, timeout: nil, onInterrupt: onInterrupt,
            submitterUID: submitterUID)
    }

    static let success = AttemptEnd.succeeded(.delay(DelayResult(value: .null)))

    static func insertAndKey(_ store: any JobStore) async throws {
        let first = try await store.insert([delay(1), delay(2, key: "k")], now: t0)
        #expect(first.map(\.created) == [true, true])
        #expect(first[0].id.rawValue < first[1].id.rawValue)
        let again = try await store.insert([delay(3, key: "k")], now: t0)
        #expect(again == [InsertOutcome(id: first[1].id, created: false)])
        #expect(try await store.counts().queued == 2)
        await #expect(throws: StoreError.self) {
            _ = try await store.insert([delay(4, key: "k", submitterUID: 1000)], now: t0)
        }
    }

    static func maxQueued(_ store: any JobStore) async throws {
        _ = try await store.insert([delay(), delay()], maxQueued: 3, now: t0)
        do {
            _ = try await store.insert([delay(), delay()], maxQueued: 3, now: t0)
            Issue.record("an insert past max_queued was stored")
        } catch let error as StoreError {
            #expect(error.code == .queueFull)
        }
        #expect(try await store.counts().queued == 2)
    }

    static func claimOrder(_ store: any JobStore) async throws {
        let ids = try await store.insert(
            [
                delay(0, priority: 0, runAt: t0), delay(1, priority: 5, runAt: t0),
                delay(2, priority: 0, runAt: t0.addingTimeInterval(-10)), delay(3, priority: 9, runAt: t0 + 60),
            ], now: t0
        ).map(\.id)
        let claimed = try await store.claim(limit: 10, now: t0)
        #expect(claimed.map(\.id) == [ids[1], ids[2], ids[0]])
        #expect(claimed.allSatisfy { $0.attemptNumber == 1 })
        let outcome = try await store.settle(SettleRequest(claim: ClaimRequest(limit: 1, now: t0)))
        #expect(outcome.claimed.isEmpty)
        #expect(outcome.nextRunAt == t0 + 60)
        #expect(try await store.job(ids[1])?.state == .running)
    }

    static func fencing(_ store: any JobStore) async throws {
        let id = try #require(try await store.insert([delay()], now: t0).first).id
        let claim = try #require(try await store.claim(limit: 1, now: t0).first)
        var stale = claim.attempt
        stale.number -= 1
        #expect(!(try await store.finish(AttemptFinish(attempt: stale, end: success), now: t0)))
        #expect(try await store.job(id)?.state == .running)
        #expect(try await store.finish(AttemptFinish(attempt: claim.attempt, end: success), now: t0))
        #expect(!(try await store.finish(AttemptFinish(attempt: claim.attempt, end: success), now: t0)))
        let record = try #require(try await store.job(id))
        #expect(record.state == .succeeded)
        #expect(record.attempts?.map(\.outcome) == [.succeeded])
    }

    static func settleRetry(_ store: any JobStore) async throws {
        let id = try #require(try await store.insert([delay()], now: t0).first).id
        let claim = try #require(try await store.claim(limit: 1, now: t0).first)
        let failure = AttemptEnd.failed(JobError(.jobFailed, "again"), result: nil, retryAt: t0)
        let outcome = try await store.settle(
            SettleRequest(
                finishes: [AttemptFinish(attempt: claim.attempt, end: failure)],
                claim: ClaimRequest(limit: 1, now: t0)))
        #expect(outcome.recorded == [true])
        #expect(outcome.claimed.map(\.id) == [id])
        #expect(outcome.claimed.first?.attemptNumber == 2)
        #expect(try await store.job(id)?.attempts?.map(\.outcome) == [.failed, .running])
    }

    static func staleBesideOwner(_ store: any JobStore) async throws {
        let id = try #require(try await store.insert([delay()], now: t0).first).id
        let claim = try #require(try await store.claim(limit: 1, now: t0).first)
        var stale = claim.attempt
        stale.number += 1
        let outcome = try await store.settle(
            SettleRequest(
                finishes: [
                    AttemptFinish(
                        attempt: stale, end: .failed(JobError(.jobFailed, "stale"), result: nil, retryAt: nil)),
                    AttemptFinish(attempt: claim.attempt, end: success),
                ], claim: ClaimRequest(limit: 0, now: t0)))
        #expect(outcome.recorded == [false, true])
        #expect(try await store.job(id)?.state == .succeeded)
        #expect(try await store.job(id)?.attempts?.map(\.outcome) == [.succeeded])
    }

    static func cancelRace(_ store: any JobStore) async throws {
        let ids = try await store.insert([delay(), delay()], now: t0).map(\.id)
        let claim = try #require(try await store.claim(limit: 1, now: t0).first)
        let queued = try #require(ids.first { $0 != claim.id })
        #expect(try await store.cancel(queued, now: t0) == .cancelled)
        #expect(try await store.cancel(claim.id, now: t0) == .running(claim.attempt))
        // The cancel did not move the running job: its attempt still owns it.
        #expect(try await store.finish(AttemptFinish(attempt: claim.attempt, end: success), now: t0))
        #expect(try await store.cancel(claim.id, now: t0) == .alreadyTerminal(.succeeded))
        #expect(try await store.cancel(queued, now: t0) == .alreadyTerminal(.cancelled))
        #expect(try await store.cancel(JobID(987_654), now: t0) == .notFound)
        // A cancelled queued job is never claimed.
        #expect(try await store.claim(limit: 5, now: t0).isEmpty)
    }

    static func retryFinished(_ store: any JobStore) async throws {
        let id = try #require(try await store.insert([delay(maxAttempts: 1)], now: t0).first).id
        #expect(try await store.retry(id, defaultMaxAttempts: 3, now: t0) == .notFinished(.queued))
        let claim = try #require(try await store.claim(limit: 1, now: t0).first)
        let failure = AttemptEnd.failed(JobError(.jobFailed, "no"), result: nil, retryAt: nil)
        #expect(try await store.finish(AttemptFinish(attempt: claim.attempt, end: failure), now: t0))
        #expect(try await store.retry(id, defaultMaxAttempts: 3, now: t0) == .requeued)
        let record = try #require(try await store.job(id))
        #expect(record.state == .queued)
        #expect(record.maxAttempts == 2)
        #expect(try await store.retry(JobID(987_654), defaultMaxAttempts: 3, now: t0) == .notFound)
        let again = try #require(try await store.claim(limit: 1, now: t0).first)
        #expect(again.attemptNumber == 2)
    }

    static func rescue(_ subject: ConformanceSubject) async throws {
        let ids = try await subject.store.insert([delay(), delay(onInterrupt: .fail)], now: t0).map(\.id)
        let claims = try await subject.store.claim(limit: 2, now: t0)
        #expect(claims.count == 2)
        let store = try await subject.crashAndReopen()
        let report = try await store.rescue(now: t0)
        #expect(report == RescueReport(interruptedAttempts: 2, requeuedJobs: 1, failedJobs: 1))
        #expect(try await store.job(ids[0])?.state == .queued)
        let failed = try #require(try await store.job(ids[1]))
        #expect(failed.state == .failed)
        #expect(failed.error?.code == .interrupted)
        // The dead owner's late ends are fenced out.
        for claim in claims {
            #expect(!(try await store.finish(AttemptFinish(attempt: claim.attempt, end: success), now: t0)))
        }
        let next = try #require(try await store.claim(limit: 1, now: t0).first)
        #expect(next.id == ids[0])
        #expect(next.attemptNumber == 2)
        #expect(next.attemptsUsed == 1, "an interrupted attempt does not use up the budget")
    }

    static func prune(_ store: any JobStore) async throws {
        let ids = try await store.insert([delay(), delay(), delay()], now: t0).map(\.id)
        let claims = try await store.claim(limit: 1, now: t0)
        let finished = try #require(claims.first)
        #expect(try await store.finish(AttemptFinish(attempt: finished.attempt, end: success), now: t0))
        #expect(try await store.earliestFinishedAt() == t0)
        #expect(try await store.prune(finishedBefore: t0, limit: 100) == 0)
        #expect(try await store.prune(finishedBefore: t0 + 1, limit: 100) == 1)
        #expect(try await store.job(finished.id) == nil)
        #expect(try await store.counts().queued == 2)
        #expect(Set(try await store.list(limit: 10).map(\.id)) == Set(ids.filter { $0 != finished.id }))
    }

    static func changeFeed(_ store: any JobStore) async throws {
        let seen = Mutex<[String]>([])
        store.subscribe { change in
            let text: String
            switch change {
            case .inserted(let ids, let owner): text = "inserted \(ids.count) uid \(owner.map(String.init) ?? "-")"
            case .finished(let finish): text = "finished \(finish.attemptNumber)"
            case .rescued(let attempts): text = "rescued \(attempts.count)"
            // A store never reports its own starts: the runtime publishes them as it admits.
            case .started: text = "started"
            case .leaseLost, .resynchronized, .cancelRequested, .pauseChanged, .batchCompleted, .dependencies,
                .schedulesChanged, .leadershipChanged:
                return
            case .cancelled(_, let owner): text = "cancelled uid \(owner.map(String.init) ?? "-")"
            case .requeued(_, let owner): text = "requeued uid \(owner.map(String.init) ?? "-")"
            }
            seen.withLock { $0.append(text) }
        }
        let ids = try await store.insert(
            [delay(submitterUID: 7), delay(submitterUID: 7), delay(key: "x", submitterUID: 7)], now: t0
        ).map(\.id)
        _ = try await store.insert([delay(key: "x", submitterUID: 7)], now: t0)
        let claim = try #require(try await store.claim(limit: 1, now: t0).first)
        var stale = claim.attempt
        stale.number += 1
        _ = try await store.finish(AttemptFinish(attempt: stale, end: success), now: t0)
        _ = try await store.finish(AttemptFinish(attempt: claim.attempt, end: success, submitterUID: 7), now: t0)
        _ = try await store.cancel(ids[1], now: t0)
        _ = try await store.retry(claim.id, defaultMaxAttempts: 3, now: t0)
        // Changes arrive right after each commit, so all of them are here by now.
        #expect(
            seen.withLock { $0 } == [
                "inserted 3 uid 7", "finished 1", "cancelled uid 7", "requeued uid 7",
            ])
    }
}
