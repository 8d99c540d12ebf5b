import Foundation
import GRDB

extension JobStore {
    /// Proves that the group-commit writer still commits: a no-op pushed through it.
    ///
    /// The probe (`SELECT 1`) is queued like any write and joins the next group
    /// transaction; a transaction that changes nothing writes no WAL frame, so it costs no
    /// fsync. It returns after that transaction committed. If the writer queue is stuck,
    /// it never returns: the caller (the systemd watchdog) races it against a deadline and
    /// must not start a second probe while one is outstanding.
    ///
    /// - Throws: `StoreError` when the transaction fails.
    public func probeWriter() async throws {
        try await write("writer probe") { db in
            _ = try Int.fetchOne(db, sql: "SELECT 1")
        }
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
