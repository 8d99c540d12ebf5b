import Foundation
import JobdModel
import JobdRuntime
import JobdStore
import Synchronization

/// A fetch executor that fetches nothing: it records when each job's attempt started, by
/// host, and answers 200 at once.
final class RecordingFetchExecutor: JobExecutor {
    private let starts = Mutex<[(host: String, jobID: JobID, at: ContinuousClock.Instant)]>([])

    /// The attempts' starts so far, oldest first.
    var recorded: [(host: String, jobID: JobID, at: ContinuousClock.Instant)] { starts.withLock { $0 } }

    /// The starts of `host`'s attempts, oldest first.
    func starts(of host: String) -> [ContinuousClock.Instant] {
        starts.withLock { $0.filter { $0.host == host }.map(\.at) }
    }

    func execute(_ job: ClaimedJob) async throws -> JobResult {
        let at = ContinuousClock.now
        starts.withLock { $0.append((job.host ?? "", job.id, at)) }
        let url = if case .fetch(let fetch) = job.spec.payload { fetch.url } else { "" }
        return .fetch(
            FetchResult(
                status: 200, headers: [:], body: "ok", bodyEncoding: .utf8, size: 2, elapsedMs: 0, finalURL: url))
    }
}
