import Foundation
import GRDB
import JobdModel
import JobdStore

/// New job rows stored by one multi-row `INSERT` per `chunk` jobs, instead of one
/// statement per job.
///
/// Only plain jobs go this way: no idempotency key (its holder is looked up first), no
/// tags (their index rows follow the job's), no `after` (its edges and state follow). The
/// others take `SQLiteJobStore.insertRow`. Per job this saves the statement overheads
/// (binding through GRDB, the reset, the halt) that were a third of an insert
/// (docs/benchmarks.md).
///
/// The ids: `jobs.id` is `AUTOINCREMENT`, so each row of the statement takes one more than
/// the largest id the table ever had, in `VALUES` order, and nothing else inserts into
/// `jobs` while the statement runs (no trigger does): the chunk's ids are the
/// `rows` ids that end at `lastInsertedRowID`.
struct JobRowBatch {
    /// Jobs per statement: 16 bound values each.
    static let chunk = 32

    /// Whether `job` may go in a multi-row insert.
    static func isPlain(_ job: NewJob) -> Bool {
        job.spec.key == nil && job.spec.tags?.isEmpty != false && job.spec.after?.isEmpty != false
    }

    /// Inserts `rows` (plain jobs, with their spec JSON and host) in the caller's
    /// transaction, `queued`; with `batch`, the first row is at `batch.index` of it. With
    /// `ranks` (fair share is on), each job due by `now` takes its rank (`FairRanks`);
    /// without, none does (the next fair claim ranks them).
    ///
    /// - Returns: The new ids, in order.
    static func insert(
        _ rows: ArraySlice<(NewJob, String, String?)>, now: Double, batch: (id: Int64, index: Int)? = nil,
        ranks: FairRanks? = nil, in db: Database
    ) throws -> [JobID] {
        var ids: [JobID] = []
        ids.reserveCapacity(rows.count)
        var start = rows.startIndex
        while start < rows.endIndex {
            let end = min(start + chunk, rows.endIndex)
            var arguments = BoundValues(capacity: (end - start) * 16)
            for position in start..<end {
                let (job, specJSON, host) = rows[position]
                let runAt = job.runAt.timeIntervalSince1970
                let uid = job.submitterUID.map { Int64($0) }
                arguments.append(job.spec.kind.rawValue)
                arguments.append(specJSON)
                arguments.append(JobState.queued.rawValue)
                arguments.append(job.priority)
                arguments.append(runAt)
                arguments.append(now)
                arguments.append(now)
                arguments.append(job.maxAttempts)
                arguments.append(job.timeout)
                arguments.append(job.onInterrupt.rawValue)
                arguments.append(uid)
                arguments.append(host)
                arguments.append(batch?.id)
                arguments.append(batch.map { $0.index + (position - rows.startIndex) })
                arguments.append((job.spec.onDependencyFailure ?? .cancel).rawValue)
                arguments.append(runAt <= now ? ranks?.next(uid: uid) : nil)
            }
            let count = end - start
            try db.cachedStatement(sql: sqls[count]).run(bound: arguments)
            guard db.changesCount == count else {
                throw StoreError(.badData, "a multi-row insert stored \(db.changesCount) of \(count) jobs")
            }
            let last = db.lastInsertedRowID
            ids += (last - Int64(count) + 1...last).map(JobID.init)
            start = end
        }
        return ids
    }

    /// `sql` for 0 to `chunk` rows, made once (the statement cache's keys).
    static let sqls = (0...chunk).map { sql(rows: $0) }

    /// The insert of `rows` jobs (arguments: per job, the 16 bound columns).
    static func sql(rows: Int) -> String {
        let row = "(" + Array(repeating: "?", count: 16).joined(separator: ", ") + ")"
        return """
            INSERT INTO jobs (kind, spec, state, priority, run_at, created_at, updated_at, max_attempts, timeout,
                on_interrupt, submitter_uid, host, batch_id, batch_index, on_dependency_failure, fair_rank)
            VALUES \(Array(repeating: row, count: rows).joined(separator: ", "))
            """
    }
}
