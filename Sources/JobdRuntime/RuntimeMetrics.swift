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
    /// Fetches that found their host's token not yet due (`jobd_rate_limit_waits_total`).
    let rateLimitWaits = Counter(label: "jobd_rate_limit_waits_total")
    /// Jobs running now (`jobd_jobs_running`).
    let running = Gauge(label: "jobd_jobs_running")

    /// Per kind and outcome, made once: a metric object costs a factory look-up (a lock
    /// and a hash) that a per-job call would pay every time.
    private let finishedCounters: [JobKind: [String: Counter]]
    private let runTimers: [JobKind: Metrics.Timer]

    init() {
        var counters: [JobKind: [String: Counter]] = [:]
        var timers: [JobKind: Metrics.Timer] = [:]
        for kind in JobKind.allCases {
            for outcome in Self.outcomes {
                counters[kind, default: [:]][outcome] = Counter(
                    label: "jobd_attempts_finished_total", dimensions: [("kind", kind.rawValue), ("outcome", outcome)])
            }
            timers[kind] = Metrics.Timer(
                label: "jobd_attempt_run_seconds", dimensions: [("kind", kind.rawValue)], preferredDisplayUnit: .seconds
            )
        }
        finishedCounters = counters
        runTimers = timers
    }

    static let outcomes = ["succeeded", "failed", "retried", "cancelled", "interrupted"]

    /// An attempt's end, by kind and outcome (`jobd_attempts_finished_total`).
    func finished(kind: JobKind, outcome: String) {
        finishedCounters[kind]?[outcome]?.increment()
    }

    /// An attempt's run time, by kind (`jobd_attempt_run_seconds`).
    func runTime(kind: JobKind, _ duration: Duration) {
        runTimers[kind]?.record(duration: duration)
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
