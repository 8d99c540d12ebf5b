import Foundation
import GRDB
import JobdModel
import JobdStore
import Synchronization

extension SQLiteJobStore {
    /// Records finished attempts and claims due jobs, in one operation of one transaction
    /// (the group writer's), as `JobStore.settle(_:)` describes.
    ///
    /// A finish is fenced by (job id, attempt number, state `running`); the claim walks the
    /// queue index, or under fair share the ranked one (`ClaimQuery`, `FairRanks`). The node and lease of the claim are not used: one
    /// process owns the file, under `DatabaseLock`.
    ///
    /// - Throws: `StoreError`.
    public func settle(_ request: SettleRequest) async throws -> SettleOutcome {
        let finishes = request.finishes
        let claimLimit = request.claim.limit
        let now = request.claim.now
        guard !finishes.isEmpty || claimLimit > 0 else { return SettleOutcome(recorded: [], claimed: []) }
        // JSON and column values are made here, off the writer thread.
        let writes = try finishes.map { finish in
            (attempt: finish.attempt, write: try FinishWrite(end: finish.end, now: finish.endedAt ?? now))
        }
        let claimRequest = request.claim
        let ranks = fairRanks
        // A claim on a store without the index its order walks builds it first (once: the
        // flag is set after that transaction committed).
        let fair = request.claim.fairShare == .perUID
        let indexes = queueIndexes.withLock { $0 }
        let buildIndex = claimLimit > 0 && (fair ? !indexes.fair : !indexes.queue)
        let context =
            finishes.count == 1 ? "cannot record the end of job \(finishes[0].jobID)" : "cannot record attempts"
        let hook: @Sendable (RawSettle) -> Void = { [weak self] raw in
            guard let self, raw.recorded.contains(true) else { return }
            self.announce(
                zip(finishes, raw.recorded).compactMap { finish, recorded in
                    recorded ? StoreChange.finished(FinishedAttempt(finish)) : nil
                } + (raw.transitions.isEmpty ? [] : [.dependencies(raw.transitions)]))
        }
        let raw = try await write(claimLimit > 0 && finishes.isEmpty ? "cannot claim jobs" : context, afterCommit: hook)
        { db in
            if buildIndex { try db.execute(sql: fair ? Self.fairShareIndexSQL : Self.queueIndexSQL) }
            let recorded = try FinishStatements(finishes: writes).run(in: db)
            // The children these ends release are claimable in this same round: a chain of
            // jobs costs one round per link.
            let transitions = recorded.contains(true) ? try Self.propagateDependencies(db) : []
            // The claim's instant after the finishes and the release (`ClaimRequest.stamped`).
            let stamped = claimRequest.stamped()
            let claim = ClaimQuery(
                limit: claimLimit, excludingKinds: stamped.excludingKinds, excludingHosts: stamped.excludingHosts,
                now: stamped.now, fairShare: stamped.fairShare, ranks: ranks)
            let (rows, nextRunAt) = try claim.run(in: db)
            return RawSettle(recorded: recorded, rows: rows, nextRunAt: nextRunAt, transitions: transitions)
        }
        if buildIndex {
            queueIndexes.withLock { indexes in
                if fair { indexes.fair = true } else { indexes.queue = true }
            }
        }
        let decoder = JSONCoding.makeDecoder()
        let kept = raw.rows.isEmpty ? [:] : recentSpecs.take(raw.rows.map(\.row.id))
        let claimed = try raw.rows.map { row, attemptID in
            let spec: JobSpec
            if let known = kept[row.id] ?? SubmitFastPath.spec(row.spec) {
                spec = known
            } else {
                do {
                    spec = try decoder.decode(JobSpec.self, from: Data(row.spec.utf8))
                } catch {
                    throw StoreError(.badData, "job \(row.id) has a spec that does not decode: \(error)")
                }
            }
            return ClaimedJob(
                id: JobID(row.id), attemptID: attemptID, attemptNumber: row.attemptCount,
                attemptsUsed: row.attemptCount - row.interruptedCount, maxAttempts: row.maxAttempts,
                timeout: row.timeout, priority: row.priority, host: row.host,
                runAt: Date(timeIntervalSince1970: row.runAt), spec: spec,
                submitterUID: row.submitterUID.map { UInt32(truncatingIfNeeded: $0) })
        }
        return SettleOutcome(
            recorded: raw.recorded, claimed: claimed, nextRunAt: raw.nextRunAt.map(Date.init(timeIntervalSince1970:)))
    }
}

/// What `settle`'s write returns, before the specs are decoded.
private struct RawSettle: Sendable {
    var recorded: [Bool]
    var rows: [(row: ClaimRow, attemptID: Int64)]
    var nextRunAt: Double?
    var transitions: [DependencyTransition]
}
