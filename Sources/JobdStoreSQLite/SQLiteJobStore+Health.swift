import Foundation
import GRDB
import JobdStore

extension SQLiteJobStore {
    /// Proves that the group-commit writer still works through its queue.
    ///
    /// The probe is queued like any write and answered as soon as a drain round takes
    /// it, without a transaction (`GroupCommitWriter.probe()`): a database locked by
    /// another process is a storage fault that submits report (`busy`), not a hang that a
    /// restart would cure, so it delays the probe by at most the group ahead of it. If the
    /// writer is stuck (a statement or an fsync that never returns), the probe never
    /// returns: the caller (the systemd watchdog) races it against a deadline and must not
    /// start a second probe while one is outstanding.
    public func probe() async throws {
        await writer.probe()
    }

    /// Blocks GRDB's writer queue forever, so every later write hangs.
    ///
    /// - Important: For tests of the watchdog only (jobd's `JOBD_TEST_HANG_WRITER`). It
    ///   occupies the writer thread for good; the process has to be killed.
    public func hangWriterForTesting() {
        pool.asyncWriteWithoutTransaction { _ in
            // Blocking here is the point: this is GRDB's writer thread, not the
            // cooperative pool, and a stuck writer is what the watchdog must notice.
            while true { sleep(3600) }
        }
    }
}
