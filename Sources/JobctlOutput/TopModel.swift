import Foundation
import JobdModel

/// What `jobctl top` knows: the latest `stats`, and what the event stream told since it
/// started (running jobs, finishes per second, the latest failures).
///
/// A value type fed by the command's tasks and read by `TopScreen`; no I/O.
public struct TopModel: Sendable {
    /// A job running now, as the events and one look-up tell.
    public struct RunningJob: Sendable, Hashable {
        public var id: JobID
        public var attempt: Int
        public var startedAt: Date
        /// `fetch` or `delay`, once looked up.
        public var kind: JobKind?
        /// The URL or the delay, once looked up.
        public var target: String?
    }

    /// A failed attempt or job.
    public struct Failure: Sendable, Hashable {
        public var id: JobID
        public var time: Date
        public var code: String
        public var message: String
        /// False for an attempt that will be retried.
        public var isFinal: Bool
        public var kind: JobKind?
    }

    /// What the lists show (`f` cycles through them).
    public enum Filter: Sendable, Hashable, CaseIterable {
        case all, fetchJobs, delayJobs, runningOnly, failuresOnly

        public var label: String {
            switch self {
            case .all: "all"
            case .fetchJobs: "kind fetch"
            case .delayJobs: "kind delay"
            case .runningOnly: "state running"
            case .failuresOnly: "state failed"
            }
        }

        /// The kind the lists are limited to, if any.
        var kind: JobKind? {
            switch self {
            case .fetchJobs: .fetch
            case .delayJobs: .delay
            default: nil
            }
        }

        /// The next filter of the cycle.
        public var next: Filter {
            let all = Self.allCases
            return all[(all.firstIndex(of: self)! + 1) % all.count]
        }
    }

    /// Finishes per second over the last minute, newest last.
    public static let window = 60

    public var stats: StatsResponse?
    public var statsAt: Date?
    public private(set) var running: [JobID: RunningJob] = [:]
    public private(set) var failures: [Failure] = []
    /// Succeeded and failed jobs per second (index: seconds since `origin`).
    private var succeededPerSecond: [Int: Int] = [:]
    private var failedPerSecond: [Int: Int] = [:]
    /// Queue depth samples per second, from `stats`.
    private var queuedPerSecond: [Int: Int] = [:]
    public let origin: Date
    public var filter: Filter = .all
    /// The selected row of the list in view (running jobs, or failures when filtered so).
    public var selection = 0
    /// A line shown at the bottom until the next key (an error of `p`, a lost stream).
    public var notice: String?
    /// Where the daemon is.
    public var socketPath: String
    /// Set when the event stream ended (jobd stopped, or dropped this watcher).
    public var streamEnded = false
    /// Kinds of jobs seen (looked up or from a failure), so a filter can apply early.
    private var kinds: [JobID: JobKind] = [:]

    public init(socketPath: String, origin: Date = Date()) {
        self.socketPath = socketPath
        self.origin = origin
    }

    func second(_ date: Date) -> Int { Int(date.timeIntervalSince(origin).rounded(.down)) }

    /// Takes a `stats` answer read at `now`.
    public mutating func apply(stats: StatsResponse, at now: Date) {
        self.stats = stats
        statsAt = now
        queuedPerSecond[second(now)] = stats.queued
    }

    /// Takes the jobs running when `top` started (one list request, not a poll).
    public mutating func seed(running jobs: [(id: JobID, attempt: Int, startedAt: Date, kind: JobKind, target: String)])
    {
        for job in jobs where running[job.id] == nil {
            running[job.id] = RunningJob(
                id: job.id, attempt: job.attempt, startedAt: job.startedAt, kind: job.kind, target: job.target)
            kinds[job.id] = job.kind
        }
    }

    /// Takes one event of the stream.
    public mutating func apply(event: JobEvent) {
        guard let id = event.jobID else {
            if event.type == .lagged { notice = "jobd dropped this view's event stream (it read too slowly)" }
            return
        }
        switch event.type {
        case .started:
            running[id] = RunningJob(
                id: id, attempt: event.attempt ?? 1, startedAt: event.time, kind: kinds[id], target: nil)
        case .succeeded:
            running[id] = nil
            succeededPerSecond[second(event.time), default: 0] += 1
        case .failed:
            running[id] = nil
            failedPerSecond[second(event.time), default: 0] += 1
            record(failure: event, id: id, isFinal: true)
        case .attemptFailed:
            record(failure: event, id: id, isFinal: false)
        case .cancelled, .interrupted, .retryScheduled, .requeued, .dependencyFailed:
            running[id] = nil
        default:
            break
        }
        trim(now: event.time)
    }

    private mutating func record(failure event: JobEvent, id: JobID, isFinal: Bool) {
        // A final failure right after its attempt's failure is one line, not two.
        if isFinal, let last = failures.first, last.id == id, !last.isFinal {
            failures[0].isFinal = true
            return
        }
        failures.insert(
            Failure(
                id: id, time: event.time, code: event.error?.code.rawValue ?? "failed",
                message: event.error?.message ?? "", isFinal: isFinal, kind: kinds[id]),
            at: 0)
        if failures.count > 50 { failures.removeLast(failures.count - 50) }
    }

    /// Takes a job's kind and target, looked up for its row.
    public mutating func describe(_ id: JobID, kind: JobKind, target: String) {
        kinds[id] = kind
        running[id]?.kind = kind
        running[id]?.target = target
        for index in failures.indices where failures[index].id == id { failures[index].kind = kind }
    }

    /// Drops per-second counts older than the window.
    private mutating func trim(now: Date) {
        let oldest = second(now) - Self.window * 2
        guard succeededPerSecond.count + failedPerSecond.count + queuedPerSecond.count > Self.window * 6 else { return }
        succeededPerSecond = succeededPerSecond.filter { $0.key >= oldest }
        failedPerSecond = failedPerSecond.filter { $0.key >= oldest }
        queuedPerSecond = queuedPerSecond.filter { $0.key >= oldest }
    }

    /// Finished jobs (succeeded + failed) per second over the last minute, oldest first;
    /// the current second is left out (it is not over).
    public func throughput(now: Date) -> [Int] {
        series(now: now) { succeededPerSecond[$0, default: 0] + failedPerSecond[$0, default: 0] }
    }

    /// Failed jobs per second over the last minute, oldest first.
    public func failuresPerSecond(now: Date) -> [Int] {
        series(now: now) { failedPerSecond[$0, default: 0] }
    }

    /// Queued jobs at each second's last `stats` over the last minute (a gap repeats the
    /// sample before it).
    public func queueDepth(now: Date) -> [Int] {
        var last = 0
        let end = second(now)
        return (end - Self.window + 1...end).map { index in
            if let value = queuedPerSecond[index] { last = value }
            return last
        }
    }

    private func series(now: Date, _ value: (Int) -> Int) -> [Int] {
        let end = second(now)
        return (end - Self.window..<end).map(value)
    }

    /// Running jobs in view, longest running first, filtered by kind.
    public var runningRows: [RunningJob] {
        running.values.filter { job in filter.kind.map { job.kind == $0 } ?? true }
            .sorted { ($0.startedAt, $0.id) < ($1.startedAt, $1.id) }
    }

    /// Failures in view, newest first, filtered by kind.
    public var failureRows: [Failure] {
        failures.filter { failure in filter.kind.map { failure.kind == $0 } ?? true }
    }

    /// The job of the selected row, if any.
    public var selectedJob: JobID? {
        if filter == .failuresOnly {
            let rows = failureRows
            return rows.indices.contains(selection) ? rows[selection].id : nil
        }
        let rows = runningRows
        return rows.indices.contains(selection) ? rows[selection].id : nil
    }

    /// Moves the selection by `delta` rows, within the list in view.
    public mutating func move(_ delta: Int) {
        let count = filter == .failuresOnly ? failureRows.count : runningRows.count
        selection = max(0, min(count - 1, selection + delta))
    }
}
