import Foundation
import GRDB
import JobdModel
import JobdStore
import Synchronization

extension SQLiteJobStore {
    /// Stores new jobs, all in one transaction, and returns after the commit.
    ///
    /// A job whose idempotency `key` is already taken is not stored again: its outcome
    /// names the existing job with `created == false`.
    ///
    /// With `maxQueued`, the insert is refused whole when the jobs it would create bring
    /// the number of queued jobs over the cap.
    ///
    /// A key taken by a job of another submitter (another uid, or none) is refused.
    ///
    /// - Returns: One outcome per job, in order.
    /// - Throws: `StoreError` `queue_full`, `key_taken`, or `disk_full`, `busy`, …; then
    ///   nothing of the batch is stored.
    ///
    /// The change feed hears of the created jobs right after the commit, before any later
    /// write (a claim of these jobs included), so events stay in order.
    public func insert(_ jobs: [NewJob], maxQueued: Int?, now: Date) async throws -> [InsertOutcome] {
        // Encode outside the writer: the writer thread is the bottleneck, JSON is not SQL.
        // A large batch is tens of milliseconds of CPU: off the cooperative pool, so the
        // API's other requests do not wait behind it (docs/benchmarks.md, W4).
        let rows = try await Self.offPoolIfLarge(jobs.count) { try Self.encodedRows(jobs) }
        let nowSeconds = now.timeIntervalSince1970
        let recentSpecs = self.recentSpecs
        let specs = jobs.map(\.spec)
        // Kept on the writer right after the commit, before any later transaction can claim
        // these jobs (never before it: a rolled-back insert's ids are used again).
        let submitters = jobs.map(\.submitterUID)
        let keepThenAnnounce: @Sendable (([InsertOutcome], [DependencyTransition])) -> Void = { [weak self] answer in
            let (outcomes, transitions) = answer
            let ids = outcomes.map(\.id)
            recentSpecs.keep(
                zip(outcomes, specs).compactMap { outcome, spec in
                    outcome.created ? (outcome.id.rawValue, spec.resolvingPositions(ids)) : nil
                })
            self?.announce(
                StoreChange.insertedChanges(outcomes, submitters: submitters)
                    + (transitions.isEmpty ? [] : [.dependencies(transitions)]))
        }
        return try await write("cannot store the jobs", afterCommit: keepThenAnnounce) { db in
            let queuedBefore = try maxQueued.map { try Self.queuedCount(in: db, upTo: $0) } ?? 0
            var outcomes: [InsertOutcome] = []
            outcomes.reserveCapacity(rows.count)
            var created = 0
            var position = 0
            while position < rows.count {
                // A run of plain jobs goes in multi-row inserts.
                var plainEnd = position
                while plainEnd < rows.count && JobRowBatch.isPlain(rows[plainEnd].0) { plainEnd += 1 }
                if plainEnd > position {
                    let ids = try JobRowBatch.insert(
                        rows[position..<plainEnd], now: nowSeconds, ranks: try self.insertRanks(in: db), in: db)
                    outcomes += ids.map { InsertOutcome(id: $0, created: true) }
                    created += ids.count
                    position = plainEnd
                    continue
                }
                let (job, specJSON, host) = rows[position]
                position += 1
                // A holder whose window has passed gives the key up here, and this job takes it.
                if let key = job.spec.key, let holder = try Self.keyHolder(key, now: nowSeconds, in: db) {
                    // A key names a job of its submitter only: answering another user's job
                    // would show it to someone who may not see it.
                    guard holder.uid == job.submitterUID.map({ Int64($0) }) else {
                        throw StoreError(
                            .keyTaken, "the key \(key.debugDescription) belongs to a job of another user")
                    }
                    outcomes.append(InsertOutcome(id: JobID(holder.id), created: false))
                    continue
                }
                let id = try Self.insertRow(job, specJSON: specJSON, host: host, now: nowSeconds, in: db)
                outcomes.append(InsertOutcome(id: id, created: true))
                // A job that waits for others is not in the queue yet.
                if job.spec.after?.isEmpty != false { created += 1 }
            }
            if let maxQueued, queuedBefore + created > maxQueued {
                // Thrown inside the savepoint: every row of this insert is rolled back.
                throw StoreError(
                    .queueFull,
                    "the queue holds \(queuedBefore) of at most \(maxQueued) jobs; \(created) more do not fit")
            }
            let ids = outcomes.map(\.id)
            let dependent = Self.dependents(
                zip(outcomes, jobs).map { outcome, job in
                    outcome.created ? (outcome.id, job.spec, job.submitterUID) : nil
                }, ids: ids)
            let transitions =
                dependent.isEmpty ? [] : try Self.recordDependencies(dependent, now: nowSeconds, in: db)
            return (outcomes, transitions)
        }.0
    }

    /// Each job with its spec as JSON and its `host:port`: the columns the writer needs,
    /// made off the writer thread.
    static func encodedRows(_ jobs: [NewJob]) throws -> [(NewJob, String, String?)] {
        let encoder = JSONCoding.makeEncoder()
        return try jobs.map { job in
            let host: String? =
                if case .fetch(let fetch) = job.spec.payload { fetch.hostKey } else { nil }
            let text = try JSONText.encode(job.spec) ?? String(decoding: try encoder.encode(job.spec), as: UTF8.self)
            return (job, text, host)
        }
    }

    /// The fair-share ranks new due jobs take (`FairRanks`), loaded; nil while the store
    /// has no fair-share index (then the next fair claim ranks them). Inside a write.
    func insertRanks(in db: Database) throws -> FairRanks? {
        guard queueIndexes.withLock({ $0.fair }) else { return nil }
        try fairRanks.load(in: db)
        return fairRanks
    }

    /// How many jobs are queued, counting no further than `cap + 1`: the answer is only
    /// "room for n more".
    static func queuedCount(in db: Database, upTo cap: Int) throws -> Int {
        try Int.fetchOne(
            db.cachedStatement(sql: "SELECT count(*) FROM (SELECT 1 FROM jobs WHERE state = 'queued' LIMIT ?)"),
            arguments: [cap + 1]) ?? 0
    }

    /// Inserts one job row (and its tags) in the caller's transaction and returns its id. A
    /// job with `after` is stored `waiting`; `recordDependencies` then settles its state.
    static func insertRow(
        _ job: NewJob, specJSON: String, host: String?, now: Double, state: JobState = .queued,
        batch: (id: Int64, index: Int)? = nil, in db: Database
    ) throws -> JobID {
        // A key's window runs from the submit: `key_window` seconds after `created_at`.
        let keyExpiresAt = job.spec.key == nil ? nil : job.spec.keyWindow.map { now + $0 }
        try db.cachedStatement(
            sql: """
                INSERT INTO jobs (kind, spec, state, priority, run_at, created_at, updated_at,
                    max_attempts, timeout, on_interrupt, idempotency_key, submitter_uid, host, batch_id, batch_index,
                    on_dependency_failure, key_expires_at, tags)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            job.spec.kind.rawValue, specJSON,
            job.spec.after?.isEmpty == false ? JobState.waiting.rawValue : state.rawValue,
            job.priority, job.runAt.timeIntervalSince1970, now, now, job.maxAttempts, job.timeout,
            job.onInterrupt.rawValue, job.spec.key, job.submitterUID.map { Int64($0) }, host, batch?.id, batch?.index,
            (job.spec.onDependencyFailure ?? .cancel).rawValue, keyExpiresAt, Self.tagsColumn(job.spec),
        ])
        let id = JobID(db.lastInsertedRowID)
        try Self.insertTags(job.spec.tags, of: id, in: db)
        return id
    }

    /// Runs `work` on a global dispatch queue when `count` is above 256, else in place.
    ///
    /// CPU-bound work that takes milliseconds (encoding a 10,000-job batch) would hold one
    /// of the cooperative pool's few threads (two on the bench machine) for all that time.
    static func offPoolIfLarge<T: Sendable>(
        _ count: Int, _ work: @escaping @Sendable () throws -> T
    ) async throws -> T {
        guard count > 256 else { return try work() }
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(with: Result { try work() })
            }
        }
    }

    static func jsonArray(_ values: [String]) -> String {
        let data = (try? JSONEncoder().encode(values)) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
