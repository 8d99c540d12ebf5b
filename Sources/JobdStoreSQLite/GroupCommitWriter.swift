import GRDB
import JobdStore
import Metrics
import Synchronization

/// The single write path: queued operations commit together, many per transaction.
///
/// Callers hand in a closure and suspend. The first caller to find the writer idle
/// schedules a drain on GRDB's writer queue (the one thread that owns the write
/// connection); the drain takes everything queued so far, runs each operation in its
/// own savepoint (none when it is alone) inside one `BEGIN IMMEDIATE … COMMIT`, then
/// resumes every caller. Work
/// that arrives during a commit waits for the next round, so under load many operations
/// share one fsync, and an idle writer costs nothing (no polling thread).
///
/// - Important: A caller resumes only after its transaction committed (or failed), so a
///   submit answered from `write` is on disk.
final class GroupCommitWriter: Sendable {
    private struct State {
        var pending: [any PendingWrite] = []
        var isDraining = false
    }

    private let pool: DatabasePool
    private let state = Mutex(State())
    private let counters = Mutex((commits: 0, operations: 0))
    /// Seconds from `BEGIN` to the end of `COMMIT` (fsync included).
    private let commitTimer = Metrics.Timer(label: "jobd_store_commit_seconds", preferredDisplayUnit: .seconds)
    /// Operations per transaction: how much group commit is saving.
    private let batchSize = Recorder(label: "jobd_store_commit_batch_size")
    /// The most operations one transaction takes; bounds the time a transaction holds the
    /// write lock and the latency of the first caller in it.
    private let maxBatch: Int
    /// What every transaction ends with: `collect` runs last inside it (after every
    /// operation, so a rolled-back operation's rows are gone), and `announce` gets its value
    /// after the commit, after the operations' own `afterCommit`s: the settling of
    /// dependencies and the batch outbox's drain.
    private let transactionEnd = Mutex<TransactionEnd?>(nil)

    /// The hooks of `transactionEnd`.
    struct TransactionEnd: Sendable {
        var collect: @Sendable (Database) throws -> [StoreChange]
        var announce: @Sendable ([StoreChange]) -> Void
    }

    init(pool: DatabasePool, maxBatch: Int = 4096) {
        self.pool = pool
        self.maxBatch = maxBatch
    }

    /// Sets what every transaction ends with (see `transactionEnd`); before the first write.
    func setTransactionEnd(_ end: TransactionEnd) {
        transactionEnd.withLock { $0 = end }
    }

    /// Transactions committed and operations run since start.
    var statistics: (commits: Int, operations: Int) { counters.withLock { $0 } }

    /// Runs `operation` in the next group transaction and returns its value after the commit.
    ///
    /// The operation runs in a savepoint (alone in the transaction, the transaction is its
    /// savepoint): if it throws, only its own changes roll back and only its caller sees
    /// the error. If the commit itself fails, every operation of the
    /// group gets that error and none of their changes is stored.
    ///
    /// - Throws: What `operation` threw, or the commit's `DatabaseError`.
    /// `afterCommit` runs on the writer queue right after the commit, before the next
    /// transaction begins, with the operation's value: whatever it announces (events)
    /// is therefore announced in commit order, before any later write can act on it.
    /// Keep it short and non-blocking.
    func write<T: Sendable>(
        _ operation: @escaping @Sendable (Database) throws -> T,
        afterCommit: (@Sendable (T) -> Void)? = nil
    ) async throws -> T {
        // Not cancellable on purpose: once queued, the operation may already be part of a
        // transaction, and its caller must learn whether it committed.
        try await withCheckedThrowingContinuation { continuation in
            enqueue(TypedPendingWrite(operation: operation, afterCommit: afterCommit, continuation: continuation))
        }
    }

    /// Returns once a drain round has taken this request from the queue, without a
    /// transaction of its own.
    ///
    /// It proves the writer works through its queue (the systemd watchdog's question),
    /// not that the database accepts writes: a lock held by another process makes each
    /// group wait up to the busy timeout and fail, which submits report as `busy`; a probe
    /// that joined such a group would wait out a second busy timeout and miss a ping on a
    /// healthy daemon. A writer stuck in a statement or an fsync never takes the probe.
    func probe() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            enqueue(ProbeRequest(continuation: continuation))
        }
    }

    private func enqueue(_ item: any PendingWrite) {
        let startDrain = state.withLock { state in
            state.pending.append(item)
            if state.isDraining { return false }
            state.isDraining = true
            return true
        }
        if startDrain {
            pool.asyncWriteWithoutTransaction { db in self.drain(db) }
        }
    }

    /// Runs on GRDB's writer queue until nothing is pending.
    private func drain(_ db: Database) {
        while true {
            var batch: [any PendingWrite] = state.withLock { state in
                if state.pending.isEmpty {
                    state.isDraining = false
                    return []
                }
                if state.pending.count <= maxBatch {
                    defer { state.pending.removeAll(keepingCapacity: true) }
                    return state.pending
                }
                let head = Array(state.pending.prefix(maxBatch))
                state.pending.removeFirst(maxBatch)
                return head
            }
            if batch.isEmpty { return }
            if batch.contains(where: { $0.isProbe }) {
                for item in batch where item.isProbe { item.resumeAfterCommit() }
                batch.removeAll { $0.isProbe }
                if batch.isEmpty { continue }
            }
            // An operation that failed alone in its transaction gets its own error, whatever
            // the rollback said.
            var failedAlone = false
            do {
                let started = ContinuousClock.now
                let end = transactionEnd.withLock { $0 }
                var ended: [StoreChange] = []
                try db.inTransaction(.immediate) {
                    if batch.count == 1 {
                        // Alone in its transaction, an operation needs no savepoint: when it
                        // fails, the transaction rolls back, which undoes exactly its changes.
                        // Two statements less per round (most of the dispatcher's rounds run
                        // alone).
                        failedAlone = !batch[0].runAlone(in: db)
                        if failedAlone { return .rollback }
                    } else {
                        for item in batch { try item.run(in: db) }
                    }
                    ended = try end?.collect(db) ?? []
                    return .commit
                }
                if failedAlone {
                    batch[0].resumeAfterCommit()
                    continue
                }
                commitTimer.record(duration: ContinuousClock.now - started)
                batchSize.record(batch.count)
                counters.withLock {
                    $0.commits += 1
                    $0.operations += batch.count
                }
                for item in batch { item.resumeAfterCommit() }
                if !ended.isEmpty { end?.announce(ended) }
            } catch {
                if failedAlone {
                    batch[0].resumeAfterCommit()
                } else {
                    for item in batch { item.resume(throwing: error) }
                }
            }
        }
    }
}

/// One queued operation, type-erased so one queue holds every result type.
private protocol PendingWrite: AnyObject, Sendable {
    /// True for a writer probe, which is answered when taken and joins no transaction.
    var isProbe: Bool { get }
    /// Runs the operation in a savepoint and keeps its outcome.
    func run(in db: Database) throws
    /// Runs the operation as the transaction's only one, without a savepoint, and keeps
    /// its outcome; false when it failed (the caller rolls the transaction back).
    func runAlone(in db: Database) -> Bool
    /// Resumes the caller with the kept outcome.
    func resumeAfterCommit()
    /// Resumes the caller with the transaction's error.
    func resume(throwing error: any Error)
}

// @unchecked: `outcome` is written and read only on the writer queue, inside one drain
// round, and the continuation is resumed exactly once at the end of that round.
private final class TypedPendingWrite<T: Sendable>: PendingWrite, @unchecked Sendable {
    let operation: @Sendable (Database) throws -> T
    let afterCommit: (@Sendable (T) -> Void)?
    let continuation: CheckedContinuation<T, any Error>
    var outcome: Result<T, any Error>?

    init(
        operation: @escaping @Sendable (Database) throws -> T, afterCommit: (@Sendable (T) -> Void)?,
        continuation: CheckedContinuation<T, any Error>
    ) {
        self.operation = operation
        self.afterCommit = afterCommit
        self.continuation = continuation
    }

    var isProbe: Bool { false }

    func run(in db: Database) throws {
        try db.inSavepoint {
            do {
                outcome = .success(try operation(db))
                return .commit
            } catch {
                outcome = .failure(error)
                return .rollback
            }
        }
    }

    func runAlone(in db: Database) -> Bool {
        do {
            outcome = .success(try operation(db))
            return true
        } catch {
            outcome = .failure(error)
            return false
        }
    }

    func resumeAfterCommit() {
        guard let outcome else {
            preconditionFailure("a pending write was resumed without having run")
        }
        if case .success(let value) = outcome, let afterCommit { afterCommit(value) }
        continuation.resume(with: outcome)
    }

    func resume(throwing error: any Error) {
        continuation.resume(throwing: error)
    }
}

/// A writer probe: taken from the queue, answered at once.
private final class ProbeRequest: PendingWrite {
    let continuation: CheckedContinuation<Void, Never>

    init(continuation: CheckedContinuation<Void, Never>) {
        self.continuation = continuation
    }

    var isProbe: Bool { true }

    func run(in db: Database) throws {}

    func runAlone(in db: Database) -> Bool { true }

    func resumeAfterCommit() {
        continuation.resume()
    }

    func resume(throwing error: any Error) {
        continuation.resume()
    }
}
