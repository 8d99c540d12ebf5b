import Foundation
import JobdModel
import JobdRuntime
import JobdStore
import Logging
import ServiceLifecycle

/// Fills a `StatsHistory`: one sample when it starts, then one each interval.
///
/// A sample costs one count query (the same as `GET /v1/stats`) once a minute; the
/// daemon's counters give what happened during the minute. A failed count is logged and
/// the minute is skipped. It stops on graceful shutdown.
public struct StatsHistoryRecorder: Service {
    let history: StatsHistory
    let store: any JobStore
    let dispatcher: Dispatcher
    let logger: Logger

    /// Makes a recorder.
    public init(history: StatsHistory, store: any JobStore, dispatcher: Dispatcher, logger: Logger) {
        self.history = history
        self.store = store
        self.dispatcher = dispatcher
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            do {
                let counts = try await store.counts()
                let statistics = dispatcher.statistics
                let now = StatsHistory.Totals(
                    submitted: statistics.submitted, finished: statistics.finished, failed: counts.failed)
                let last = history.totals ?? now
                history.record(
                    StatsSample(
                        time: Date(), submitted: max(0, now.submitted - last.submitted),
                        finished: max(0, now.finished - last.finished), failed: max(0, now.failed - last.failed),
                        queued: counts.queued, running: counts.running),
                    totals: now)
            } catch {
                logger.warning("cannot sample the stats history", metadata: ["error": "\(error)"])
            }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: history.interval) }
            } catch {
                return
            }
        }
    }
}
