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

    private let samples: Mutex<[StatsSample]>

    /// Makes an empty history.
    public init(capacity: Int = 60, interval: Duration = .seconds(60)) {
        precondition(capacity > 0, "a history holds at least one sample")
        self.capacity = capacity
        self.interval = interval
        samples = Mutex([])
    }

    /// Adds a sample, dropping the oldest past `capacity`.
    public func record(_ sample: StatsSample) {
        samples.withLock { samples in
            samples.append(sample)
            if samples.count > capacity { samples.removeFirst(samples.count - capacity) }
        }
    }

    /// The samples, oldest first.
    public var all: [StatsSample] { samples.withLock { $0 } }

    /// The wire body.
    public var response: StatsHistoryResponse {
        StatsHistoryResponse(intervalSeconds: interval.secondsValue, samples: all)
    }
}
