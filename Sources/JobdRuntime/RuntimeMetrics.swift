import CoreMetrics
import JobdModel
import JobdStore
import Metrics

/// The dispatcher's metrics, through swift-metrics (the daemon bootstraps Prometheus).
///
/// Without a bootstrapped backend every call is a no-op, so tests pay nothing.
struct RuntimeMetrics: Sendable {
    /// Jobs accepted (`jobd_jobs_submitted_total`).
    let submitted = Counter(label: "jobd_jobs_submitted_total")
    /// Time from due (`run_at`) to start (`jobd_queue_wait_seconds`).
    let queueWait = Metrics.Timer(label: "jobd_queue_wait_seconds", preferredDisplayUnit: .seconds)
    /// Jobs running now (`jobd_jobs_running`).
    let running = Gauge(label: "jobd_jobs_running")

    /// An attempt's end, by kind and outcome (`jobd_attempts_finished_total`).
    func finished(kind: JobKind, outcome: String) {
        Counter(label: "jobd_attempts_finished_total", dimensions: [("kind", kind.rawValue), ("outcome", outcome)])
            .increment()
    }

    /// An attempt's run time, by kind (`jobd_attempt_run_seconds`).
    func runTime(kind: JobKind, _ duration: Duration) {
        Metrics.Timer(
            label: "jobd_attempt_run_seconds", dimensions: [("kind", kind.rawValue)], preferredDisplayUnit: .seconds
        ).record(duration: duration)
    }

    /// The metric outcome label of an attempt's end.
    static func outcome(_ end: AttemptEnd) -> String {
        switch end {
        case .succeeded: "succeeded"
        case .failed(_, _, let retryAt): retryAt == nil ? "failed" : "retried"
        case .cancelled: "cancelled"
        case .interrupted: "interrupted"
        }
    }
}
