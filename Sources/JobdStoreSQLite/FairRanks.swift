import Foundation
import GRDB
import JobdStore
import Synchronization

/// Fair share on SQLite (`FairShare.perUID`) as start-time fair queuing: every queued job
/// that is due gets a *rank*, `jobs.fair_rank`, and a fair claim takes the due jobs in
/// `(priority DESC, fair_rank, id)` order, one range of the `jobs_fair` index, as a plain
/// claim walks `jobs_queue`.
///
/// A submitter's next rank is one more than the larger of its own last rank and the
/// *virtual time*, the largest rank claimed so far. A submitter with a backlog of 100,000
/// holds ranks v+1 … v+100,000; one that submits 100 jobs next takes ranks from v+1 too,
/// so claims alternate between them, job for job (priority still first; equal ranks go by
/// id). A submitter that was idle starts at the virtual time again: idling saves no
/// credit. The submitters are the uids (`FairShareRotation.noUID` for jobs stored without
/// one).
///
/// Who gives ranks: a plain insert of a due job (`JobRowBatch`), while the store has
/// `jobs_fair`; every other queued job that is due is ranked by the next fair claim
/// (`promote`), in `run_at` order: jobs stored with a key, tags or `after`, released
/// children, retries (a finish clears the rank: a retry waits for its backoff in
/// `jobs_unranked`, not in the claim's range), delayed jobs once due, and jobs queued
/// while fair share was off. A job put back in the queue by a release or a rescue keeps
/// its rank, so it goes first again.
///
/// The state is the writer's: this process is the only one that writes the file
/// (`DatabaseLock`), and every method runs inside a write transaction. It is read from the
/// queued jobs at the first use after opening. A transaction that rolls back after taking
/// ranks leaves them taken: a gap in the ranks, never a wrong order within a submitter.
/// docs/decisions.md, "Fair share on SQLite by ranks".
final class FairRanks: Sendable {
    private struct State {
        var loaded = false
        /// The largest rank claimed since the state was loaded (at load: one below the
        /// smallest rank queued).
        var virtualTime: Int64 = 0
        /// Each submitter's largest rank given.
        var last: [Int64: Int64] = [:]
    }

    private let state = Mutex(State())

    /// The most unranked due jobs one fair claim ranks (at least its own limit): a queue
    /// of a million jobs stored while fair share was off is ranked over a few hundred
    /// claims instead of in one transaction.
    static let promotionBatch = 4096

    /// The due jobs without a rank, oldest first (arguments: now, limit).
    static let promoteSQL = """
        SELECT id, submitter_uid FROM jobs INDEXED BY jobs_unranked
        WHERE state = 'queued' AND fair_rank IS NULL AND run_at <= ? ORDER BY run_at, id LIMIT ?
        """

    /// Reads the ranks of the queued jobs, once; inside a write transaction.
    func load(in db: Database) throws {
        guard !state.withLock({ $0.loaded }) else { return }
        var last: [Int64: Int64] = [:]
        var smallest: Int64?
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT coalesce(submitter_uid, -1), max(fair_rank), min(fair_rank) FROM jobs INDEXED BY jobs_fair
                WHERE state = 'queued' AND fair_rank IS NOT NULL GROUP BY 1
                """)
        while let row = try rows.next() {
            last[row[0]] = row[1]
            smallest = min(smallest ?? .max, row[2] as Int64)
        }
        state.withLock { state in
            guard !state.loaded else { return }
            state = State(loaded: true, virtualTime: max(0, (smallest ?? 1) - 1), last: last)
        }
    }

    /// The rank of a newly queued due job of `uid` (nil: no uid); `load` ran first.
    func next(uid: Int64?) -> Int64 {
        state.withLock { state in
            let group = uid ?? Int64(FairShareRotation.noUID)
            let rank = max(state.virtualTime, state.last[group] ?? 0) + 1
            state.last[group] = rank
            return rank
        }
    }

    /// Moves the virtual time to `rank`, the largest rank of a claim, if it is ahead.
    func claimed(upTo rank: Int64) {
        state.withLock { $0.virtualTime = max($0.virtualTime, rank) }
    }

    /// Ranks the queued jobs due by `now` that have no rank, oldest `run_at` first, up to
    /// `limit` of them; inside the claim's transaction, before its walk of `jobs_fair`.
    func promote(now: Double, limit: Int, in db: Database) throws {
        let due = try Row.fetchAll(db.cachedStatement(sql: Self.promoteSQL), arguments: [now, limit])
        guard !due.isEmpty else { return }
        let update = try db.cachedStatement(sql: "UPDATE jobs SET fair_rank = ? WHERE id = ?")
        for row in due {
            try update.execute(arguments: [next(uid: row[1]), row[0] as Int64])
        }
    }
}
