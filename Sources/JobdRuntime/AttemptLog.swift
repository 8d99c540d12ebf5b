import JobdModel
import JobdStore
import Logging

/// The log lines of attempts: one per recorded end (debug for a success, info for a
/// failure, cancel or interruption), and one for an end that was fenced out.
struct AttemptLog: Sendable {
    let logger: Logger

    /// `job.id`, `job.kind`, `job.attempt`: the metadata every attempt line carries.
    static func metadata(_ job: ClaimedJob) -> Logger.Metadata {
        ["job.id": "\(job.id)", "job.kind": "\(job.spec.kind)", "job.attempt": "\(job.attemptNumber)"]
    }

    func log(_ end: AttemptEnd, recorded: Bool, job: ClaimedJob) {
        guard recorded else {
            logger.info("attempt ended after its job moved on; outcome dropped (fenced)", metadata: Self.metadata(job))
            return
        }
        switch end {
        case .succeeded:
            logger.debug("job succeeded", metadata: Self.metadata(job))
        case .failed(let error, _, let retryAt):
            var metadata = Self.metadata(job)
            metadata["error.code"] = "\(error.code)"
            metadata["error.message"] = "\(error.message)"
            if let retryAt { metadata["retry.at"] = "\(RFC3339.string(from: retryAt))" }
            logger.info(retryAt == nil ? "job failed" : "attempt failed; retry scheduled", metadata: metadata)
        case .cancelled:
            logger.info("job cancelled while running", metadata: Self.metadata(job))
        case .interrupted:
            logger.info("attempt interrupted by shutdown; job re-queued", metadata: Self.metadata(job))
        }
    }
}
