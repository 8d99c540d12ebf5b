import Foundation
import JobdModel
import Synchronization

/// The last hour of the daemon's figures, one sample a minute, in memory.
///
/// jobd has no history in its database; the dashboard's charts want the last hour even
/// right after the page opens, so the daemon keeps a ring of `capacity` samples that
/// `StatsHistoryRecorder` fills and `GET /v1/stats/history` reads. A restart empties it.
public final class StatsHistory: Sendable {
    /// The most samples kept (an hour of minutes).
    public let capacity: Int
    /// The time between samples.
    public let interval: Duration

    /// The daemon's running totals, as a sample is taken from them.
    public struct Totals: Sendable, Hashable {
        public var submitted: Int
        public var finished: Int
        public var failed: Int

        public init(submitted: Int, finished: Int, failed: Int) {
            self.submitted = submitted
            self.finished = finished
            self.failed = failed
        }
    }

    private let samples: Mutex<[StatsSample]>
    private let lastTotals = Mutex<Totals?>(nil)

    /// Makes an empty history.
    public init(capacity: Int = 60, interval: Duration = .seconds(60)) {
        precondition(capacity > 0, "a history holds at least one sample")
        self.capacity = capacity
        self.interval = interval
        samples = Mutex([])
    }

    /// Adds a sample, dropping the oldest past `capacity`.
    ///
    /// - Parameters:
    ///   - sample: The minute that ended.
    ///   - totals: The totals it was taken from, to tell the minute in progress later.
    public func record(_ sample: StatsSample, totals: Totals? = nil) {
        if let totals { lastTotals.withLock { $0 = totals } }
        samples.withLock { samples in
            samples.append(sample)
            if samples.count > capacity { samples.removeFirst(samples.count - capacity) }
        }
    }

    /// The samples, oldest first.
    public var all: [StatsSample] { samples.withLock { $0 } }

    /// The totals of the last sample, nil before the first.
    public var totals: Totals? { lastTotals.withLock { $0 } }

    /// The wire body, with the minute in progress computed from `now` (the totals and
    /// counts at the time of the request), when there is a last sample to count from.
    public func response(now: (totals: Totals, queued: Int, running: Int)?) -> StatsHistoryResponse {
        var current: StatsSample?
        if let now, let last = totals {
            current = StatsSample(
                time: Date(), submitted: max(0, now.totals.submitted - last.submitted),
                finished: max(0, now.totals.finished - last.finished), failed: max(0, now.totals.failed - last.failed),
                queued: now.queued, running: now.running)
        }
        return StatsHistoryResponse(intervalSeconds: interval.secondsValue, samples: all, current: current)
    }
}
