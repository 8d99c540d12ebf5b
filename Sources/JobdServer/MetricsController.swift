import Foundation
import HTTPTypes
import Hummingbird
import JobdRuntime
import JobdStore
import NIOCore
import Prometheus

/// `GET /metrics`: the Prometheus text exposition of the daemon's metrics.
///
/// Counters and histograms are updated where things happen (swift-metrics, bootstrapped
/// by the daemon on this registry); the per-state job counts and the database's size are
/// read from the store at scrape time, so they are exact rather than tracked.
struct MetricsController<Context: RequestContext>: Sendable {
    let registry: PrometheusCollectorRegistry
    let store: any JobStore
    let dispatcher: Dispatcher

    func add(to router: Router<Context>) {
        router.get("/metrics", use: scrape)
    }

    static var jobs: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "jobd", metricName: "jobs", unitName: "", helpText: "Jobs in the database per state")
    }
    static var workers: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "jobd", metricName: "workers", unitName: "", helpText: "The global worker limit")
    }
    static var rateLimited: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "jobd", metricName: "fetches_rate_limited", unitName: "",
            helpText: "Claimed fetches waiting for their host's rate limit, holding no worker slot")
    }
    static var paused: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "jobd", metricName: "paused", unitName: "", helpText: "1 while dispatching is paused")
    }

    static var databaseBytes: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "jobd", metricName: "database", unitName: "bytes",
            helpText: "The database's size: SQLite's pages, or PostgreSQL's jobd tables with their indexes")
    }
    static var databaseFreeBytes: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "jobd", metricName: "database_free", unitName: "bytes",
            helpText: "Free pages inside the SQLite database that jobctl vacuum gives back")
    }
    static var databaseWALBytes: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "jobd", metricName: "database_wal", unitName: "bytes",
            helpText: "The size of the SQLite database's -wal file")
    }

    @Sendable func scrape(_ request: Request, context: Context) async throws -> Response {
        let counts = try await store.counts()
        for (state, count) in [
            ("waiting", counts.waiting), ("queued", counts.queued), ("running", counts.running),
            ("succeeded", counts.succeeded),
            ("failed", counts.failed), ("cancelled", counts.cancelled),
        ] {
            registry.makeGauge(descriptor: Self.jobs, labels: [("state", state)]).set(Double(count))
        }
        let size = try await store.size()
        registry.makeGauge(descriptor: Self.databaseBytes).set(Double(size.bytes))
        // PostgreSQL tells neither: no series rather than a made-up 0.
        if let free = size.freeBytes { registry.makeGauge(descriptor: Self.databaseFreeBytes).set(Double(free)) }
        if let wal = size.walBytes { registry.makeGauge(descriptor: Self.databaseWALBytes).set(Double(wal)) }
        let statistics = dispatcher.statistics
        registry.makeGauge(descriptor: Self.workers).set(Double(statistics.workers))
        registry.makeGauge(descriptor: Self.paused).set(Double(statistics.isPaused ? 1 : 0))
        registry.makeGauge(descriptor: Self.rateLimited).set(Double(statistics.rateLimited))
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16 * 1024)
        registry.emit(into: &buffer)
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: buffer)))
    }
}
