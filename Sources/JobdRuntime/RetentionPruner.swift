import Foundation
import JobdModel
import JobdStore
import Logging

/// Retention: deletes finished jobs past an age, in small batches, and sleeps until the
/// oldest finished job expires (no polling: an idle daemon with nothing to expire sleeps
/// for a whole retention period).
struct RetentionPruner: Sendable {
    /// Jobs per delete transaction: short ones, so pruning never stalls submits.
    static let batch = 500

    let store: any JobStore
    let clock: any Clock<Duration>
    let logger: Logger

    /// Deletes finished jobs that finished more than `age` ago, in small transactions.
    ///
    /// - Returns: How many jobs were deleted.
    /// - Throws: `StoreError`.
    func prune(olderThan age: Duration) async throws -> Int {
        let cutoff = Date().addingTimeInterval(-age.secondsValue)
        var total = 0
        while true {
            let deleted = try await store.prune(finishedBefore: cutoff, limit: Self.batch)
            total += deleted
            if deleted < Self.batch { return total }
        }
    }

    /// Prunes past `retention` until cancelled.
    func run(retention: Duration) async {
        let age = retention.secondsValue
        while !Task.isCancelled {
            var pause = age
            do {
                let pruned = try await prune(olderThan: retention)
                if pruned > 0 { logger.info("pruned finished jobs past retention", metadata: ["jobs": "\(pruned)"]) }
                if let oldest = try await store.earliestFinishedAt() {
                    // Batches of 1 s at least, so a steady stream of expiring jobs is
                    // deleted in groups rather than one wake-up each.
                    pause = max(1, oldest.timeIntervalSinceNow + age)
                }
            } catch {
                logger.error("cannot prune finished jobs; trying again in 60 s", metadata: ["error": "\(error)"])
                pause = 60
            }
            guard (try? await clock.sleep(for: .nanoseconds(Int64(min(pause, 1e9) * 1e9)))) != nil else { return }
        }
    }
}
