import Foundation
import JobdModel
import JobdStore
import JobdStoreSQLite
import Testing

/// Runs `body` with a fresh directory of its own, removed afterwards even when `body` throws.
func withTemporaryDirectory(_ body: (String) async throws -> Void) async throws {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("jobd-store-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try await body(directory)
}

/// Runs `body` with a database path in a fresh directory of its own; no store is opened.
func withTemporaryDatabasePath(_ body: (String) async throws -> Void) async throws {
    try await withTemporaryDirectory { directory in
        try await body(directory + "/jobs.sqlite")
    }
}

/// Runs `body` with a store migrated from empty in a fresh directory of its own. The store is
/// closed and the directory removed afterwards, even when `body` throws.
func withTemporaryStore(
    options: SQLiteStoreOptions = SQLiteStoreOptions(), _ body: (SQLiteJobStore) async throws -> Void
) async throws {
    try await withTemporaryDatabasePath { path in
        let store = try SQLiteJobStore(path: path, options: options)
        defer { try? store.close() }
        try await body(store)
    }
}

/// A fixed clock origin: 2026-11-25T14:25:04Z. Whole seconds keep REAL comparisons exact.
let t0 = Date(timeIntervalSince1970: 1_795_616_704)

extension NewJob {
    /// A delay job with every default resolved; tests change what they care about.
    static func delay(
        seconds: Double = 1, value: JSONValue? = nil, priority: Int = 0, runAt: Date = t0, maxAttempts: Int = 3,
        timeout: Double? = nil, onInterrupt: InterruptPolicy = .retry, key: String? = nil, submitterUID: UInt32? = nil
    ) -> NewJob {
        NewJob(
            spec: JobSpec(
                .delay(DelaySpec(seconds: seconds, value: value)), timeout: timeout, maxAttempts: maxAttempts,
                priority: priority, onInterrupt: onInterrupt, key: key),
            priority: priority, runAt: runAt, maxAttempts: maxAttempts, timeout: timeout, onInterrupt: onInterrupt,
            submitterUID: submitterUID)
    }

    /// A fetch job with every default resolved.
    static func fetch(_ url: String = "https://example.com/", runAt: Date = t0, key: String? = nil) -> NewJob {
        NewJob(
            spec: JobSpec(.fetch(FetchSpec(url: url)), key: key), priority: 0, runAt: runAt, maxAttempts: 3,
            timeout: 30, onInterrupt: .retry, submitterUID: nil)
    }
}

extension SQLiteJobStore {
    /// Records how an attempt named by its row id ended, if it still owns its job.
    ///
    /// The tests name attempts by row id; the store fences by attempt number, which this
    /// looks up (an attempt of another job, or of no job, gets a number that never matches).
    func finish(_ jobID: JobID, attemptID: Int64, end: AttemptEnd, now: Date = t0) async throws -> Bool {
        let number = try await job(jobID)?.attempts?.first { $0.id == attemptID }?.number ?? -1
        return try await finish(
            AttemptFinish(attempt: AttemptRef(jobID: jobID, attemptID: attemptID, number: number), end: end), now: now)
    }

    /// Inserts one job and returns its id.
    func insertOne(_ job: NewJob, now: Date = t0) async throws -> JobID {
        let outcomes = try await insert([job], now: now)
        return try #require(outcomes.first).id
    }

    /// Inserts one job, claims it, and returns the claim.
    func insertAndClaim(_ job: NewJob = .delay(), now: Date = t0) async throws -> ClaimedJob {
        let id = try await insertOne(job, now: now)
        let claimed = try await claim(limit: 1, now: now)
        let claim = try #require(claimed.first)
        try #require(claim.id == id, "another job was due")
        return claim
    }

    /// The job, which must exist.
    func requireJob(_ id: JobID, sourceLocation: SourceLocation = #_sourceLocation) async throws -> JobRecord {
        try #require(try await job(id), "job \(id) is missing", sourceLocation: sourceLocation)
    }
}

/// Asserts that `body` throws a `StoreError` and returns it.
@discardableResult
func expectStoreError(
    _ code: StoreError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
) async -> StoreError? {
    do {
        try await body()
        Issue.record("expected StoreError \(code), nothing was thrown", sourceLocation: sourceLocation)
        return nil
    } catch let error as StoreError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected StoreError \(code), got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
