import Foundation
import JobdModel
import Testing

/// `GET /metrics` from the real daemon.
@Suite struct MetricsTests {
    /// The value of the first sample line `name{...} value` (or `name value`) starting with `prefix`.
    static func sample(_ text: String, _ prefix: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(prefix) && !line.hasPrefix("#") {
            if let value = line.split(separator: " ").last.flatMap({ Double($0) }) { return value }
        }
        return nil
    }

    @Test("the counters move after 100 jobs and match jobctl stats")
    func counters() async throws {
        try await withTestDaemon { daemon in
            let input = (0..<100).map { #"{"kind":"delay","seconds":0,"value":\#($0)}"# }.joined(separator: "\n")
            let gather = try await daemon.jobctl(["gather", "--file", "-"], stdin: input)
            #expect(gather.status == 0, "\(gather)")
            let response = try rawHTTP(
                socketPath: daemon.socketPath, "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            #expect(response.hasPrefix("HTTP/1.1 200"), "\(response.prefix(300))")
            let body = response.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
            let stats = try await daemon.jobctlJSON(StatsResponse.self, ["stats"])
            #expect(Self.sample(body, "jobd_jobs_submitted_total") == 100)
            #expect(Self.sample(body, "jobd_attempts_finished_total{kind=\"delay\",outcome=\"succeeded\"}") == 100)
            #expect(Self.sample(body, "jobd_jobs{state=\"succeeded\"}") == Double(stats.succeeded))
            #expect(Self.sample(body, "jobd_workers") == Double(stats.workers))
            #expect(body.contains("jobd_queue_wait_seconds_bucket"))
            #expect(body.contains("jobd_attempt_run_seconds_bucket"))
            #expect(body.contains("jobd_store_commit_seconds_count"))
            #expect(body.contains("jobd_store_commit_batch_size_bucket"))
            #expect(stats.submitted == 100)
        }
    }
}
