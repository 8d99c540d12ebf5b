import Foundation
import Testing

/// The dashboard in headless Chromium, driven over the DevTools protocol by
/// scripts/dashboard_browser.py (issue 15, must-shows 2 and 3).
@Suite(.enabled(if: BrowserScript.chromiumInstalled, "needs Debian's chromium (apt-get install chromium)"))
struct DashboardBrowserTests {
    /// Jobs, a failure, a batch and a schedule, so that every page has something to show.
    static func populate(_ daemon: TestDaemon) async throws -> (job: Int, batch: Int) {
        let path = daemon.socketPath
        let job = try await SocketConnection.exchange(
            path: path, method: "POST", target: "/v1/jobs",
            body: Data(#"{"kind":"delay","seconds":0,"value":{"answer":42},"tags":["demo"]}"#.utf8))
        _ = try await SocketConnection.exchange(
            path: path, method: "POST", target: "/v1/jobs",
            body: Data(#"{"kind":"delay","seconds":0,"fail":"disk on fire","max_attempts":1}"#.utf8))
        let batch = try await SocketConnection.exchange(
            path: path, method: "POST", target: "/v1/batches",
            body: Data(#"{"label":"nightly","jobs":[{"kind":"delay","seconds":0},{"kind":"delay","seconds":0}]}"#.utf8))
        let schedule = try await SocketConnection.exchange(
            path: path, method: "POST", target: "/v1/schedules",
            body: Data(#"{"name":"hourly-report","cron":"@hourly","job":{"kind":"delay","seconds":0}}"#.utf8))
        #expect(job.status == 201 && batch.status == 201 && schedule.status == 201, "\(job) \(batch) \(schedule)")
        let jobID = try #require((try JSONSerialization.jsonObject(with: job.data) as? [String: Any])?["id"] as? Int)
        let batchID = try #require(
            (try JSONSerialization.jsonObject(with: batch.data) as? [String: Any])?["id"] as? Int)
        return (jobID, batchID)
    }

    @Test(
        "every page loads through jobctl dashboard with no console error; a job submitted after load shows within 1 s")
    func pagesAndLive() async throws {
        try await withTestDaemon { daemon in
            let (job, batch) = try await Self.populate(daemon)
            try await withDashboard(daemon) { dashboard in
                let report = try await BrowserScript.run([
                    "pages", dashboard.url, "--job", "\(job)", "--batch", "\(batch)",
                ])
                let problems = try #require(report["problems"] as? [String: [String]])
                #expect(problems.keys.sorted() == ["batch", "batches", "job", "jobs", "overview", "schedules"])
                for (page, found) in problems { #expect(found.isEmpty, "\(page): \(found)") }
                let texts = try #require(report["pages"] as? [String: String])
                #expect(texts["overview"]?.contains("Throughput") == true)
                #expect(texts["job"]?.contains("answer") == true)
                #expect(texts["batch"]?.contains("nightly") == true)
                #expect(texts["schedules"]?.contains("hourly-report") == true)
            }
            try await withDashboard(daemon) { dashboard in
                let report = try await BrowserScript.run(["live", dashboard.url, "--socket", daemon.socketPath])
                let seconds = try #require(report["seconds_to_row"] as? Double)
                print("DashboardBrowserTests: a job submitted after the page loaded was on screen after \(seconds) s")
                #expect(seconds < TimingBound.seconds(strict: 1, loose: 3))
                #expect((report["problems"] as? [String])?.isEmpty == true, "\(report)")
            }
        }
    }

    @Test("a job whose result is <script>alert(1)</script> renders as text: no script element, no dialog")
    func hostileResult() async throws {
        try await withTestDaemon { daemon in
            let hostile = "<script>alert(1)</script>"
            let submitted = try await daemon.jobctl(["submit", "delay", "0", "--value", #""\#(hostile)""#, "--wait"])
            #expect(submitted.status == 0, "\(submitted)")
            let list = try await SocketConnection.exchange(path: daemon.socketPath, method: "GET", target: "/v1/jobs")
            let jobs = try #require(
                (try JSONSerialization.jsonObject(with: list.data) as? [String: Any])?["jobs"] as? [[String: Any]])
            let job = try #require(jobs.first?["id"] as? Int)
            try await withDashboard(daemon) { dashboard in
                let report = try await BrowserScript.run(["xss", dashboard.url, "--job", "\(job)", "--expect", hostile])
                print("DashboardBrowserTests: the hostile result rendered as \(report["result_text"] ?? "?")")
                #expect(report["contains"] as? Bool == true, "\(report)")
                #expect(report["dialogs"] as? Int == 0, "\(report)")
                #expect(report["script_elements"] as? Int == 0, "\(report)")
                #expect((report["problems"] as? [String])?.isEmpty == true, "\(report)")
            }
        }
    }
}

/// scripts/dashboard_browser.py.
enum BrowserScript {
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../scripts/dashboard_browser.py").standardized.path

    static var chromiumInstalled: Bool {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"].contains { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs the script and decodes its JSON report.
    static func run(_ arguments: [String], timeout: Duration = .seconds(300)) async throws -> [String: Any] {
        let output = try await EndToEndTests.run(
            URL(fileURLWithPath: "/usr/bin/env"), ["python3", path] + arguments, timeout: timeout)
        guard output.status == 0,
            let report = try? JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]
        else {
            Issue.record("dashboard_browser.py \(arguments.first ?? "") failed: \(output)")
            throw TestDaemon.DaemonFailed(message: "dashboard_browser.py failed")
        }
        return report
    }
}
