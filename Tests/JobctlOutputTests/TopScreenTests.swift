import Foundation
import JobdModel
import Testing

@testable import JobctlOutput

/// `jobctl top`'s model and screen without a terminal: events in, lines out.
@Suite struct TopScreenTests {
    static let origin = Date(timeIntervalSince1970: 1_800_000_000)

    static func event(_ type: JobEventType, _ id: Int64, at second: Double, state: JobState? = nil) -> JobEvent {
        JobEvent(
            id: UInt64(second * 10), type: type, jobID: JobID(id), state: state,
            error: type == .failed ? JobError(.jobFailed, "boom\u{1B}[2J") : nil,
            time: origin.addingTimeInterval(second))
    }

    @Test("started adds a running row; an end removes it and counts in its second; failures keep their code")
    func events() {
        var model = TopModel(socketPath: "/s", origin: Self.origin)
        model.apply(event: Self.event(.started, 1, at: 0.5, state: .running))
        model.apply(event: Self.event(.started, 2, at: 0.6, state: .running))
        #expect(model.runningRows.map(\.id) == [JobID(1), JobID(2)])
        model.apply(event: Self.event(.succeeded, 1, at: 1.2))
        model.apply(event: Self.event(.failed, 2, at: 1.7))
        #expect(model.runningRows.isEmpty)
        let now = Self.origin.addingTimeInterval(2.1)
        #expect(model.throughput(now: now).suffix(2) == [0, 2])
        #expect(model.failuresPerSecond(now: now).suffix(1) == [1])
        #expect(model.failures.map(\.code) == ["job_failed"])
    }

    @Test("the screen: exactly the terminal's size, no control characters from a job, the counts from stats")
    func screen() {
        var model = TopModel(socketPath: "/run/jobd/jobd.sock", origin: Self.origin)
        model.apply(
            stats: StatsResponse(
                queued: 7, running: 1, succeeded: 12, failed: 1, cancelled: 0, workers: 4, maxRunning: 4, submitted: 20,
                finished: 13, commits: 9, uptimeSeconds: 3, hosts: [HostFigures(host: "a.test:80", running: 1)]),
            at: Self.origin)
        model.apply(event: Self.event(.started, 3, at: 0.2, state: .running))
        model.describe(JobID(3), kind: .fetch, target: "GET http://a.test/\u{07}x")
        model.apply(event: Self.event(.failed, 4, at: 0.3))
        let lines = TopScreen(width: 80, height: 24).lines(model, now: Self.origin.addingTimeInterval(5))
        #expect(lines.count == 24)
        #expect(lines.allSatisfy { $0.count <= 80 })
        #expect(lines.allSatisfy { !$0.unicodeScalars.contains { TopScreen.isControl($0) } })
        #expect(lines[1] == "waiting 0  queued 7  running 1  succeeded 12  failed 1  cancelled 0")
        #expect(lines.contains { $0.hasPrefix("hosts       a.test:80 1 running") })
        #expect(lines.contains { $0.contains("fetch") && $0.contains("http://a.test/?x") })
        #expect(lines.contains { $0.contains("job 4  job_failed  boom?[2J") })
        #expect(TopScreen.sparkline([0, 1, 2, 4, 8]) == "▁▂▃▅█")
    }

    @Test("f cycles the filter; a kind filter hides the other kind's rows")
    func filter() {
        var model = TopModel(socketPath: "/s", origin: Self.origin)
        model.apply(event: Self.event(.started, 1, at: 0.1, state: .running))
        model.apply(event: Self.event(.started, 2, at: 0.2, state: .running))
        model.describe(JobID(1), kind: .fetch, target: "x")
        model.describe(JobID(2), kind: .delay, target: "y")
        model.filter = model.filter.next
        #expect(model.filter == .fetchJobs)
        #expect(model.runningRows.map(\.id) == [JobID(1)])
        model.filter = model.filter.next
        #expect(model.runningRows.map(\.id) == [JobID(2)])
        model.filter = .all
        model.move(5)
        #expect(model.selectedJob == JobID(2))
    }
}
