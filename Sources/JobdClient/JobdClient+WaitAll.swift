import Foundation
import JobdModel

extension JobdClient {
    /// The most requests `waitForAll` keeps in flight while it reads many jobs (32).
    public static let maxConcurrentReads = 32

    /// Waits until every job is terminal or `timeout` passes, following the event
    /// stream instead of long-polling each job.
    ///
    /// It subscribes to `/v1/events` first, then reads each job's current state (at
    /// most `maxConcurrentReads` requests at a time), then counts the terminal events
    /// (`succeeded`, `failed`, `cancelled`) of the jobs not yet finished. Once all are
    /// finished it reads the records it does not have yet. So one request per job and
    /// one stream serve any number of jobs, and `progress` can follow every job as it
    /// finishes. If the stream cannot be opened (an older jobd), fails or ends (with
    /// `lagged`, or because jobd stops), the remaining jobs are long-polled in order,
    /// as `wait(_:timeout:)` does.
    ///
    /// - Parameters:
    ///   - ids: The jobs; duplicates are waited for once and returned at each place.
    ///   - timeout: The longest time to wait; nil waits until every job is terminal.
    ///   - progressInterval: When set, `progress` is also called at this interval while
    ///     waiting, so a display of rates and times stays current when nothing finishes.
    ///   - isolation: The actor `progress` runs on; the caller's by default.
    ///   - progress: Called on the caller's isolation whenever a job finishes (and at
    ///     `progressInterval`); keep it short.
    /// - Returns: One record per id, in the order of `ids`: final for the jobs that
    ///   finished, current for the ones still queued or running when `timeout` passed
    ///   (check `state.isTerminal`).
    /// - Throws: `APIError` with `job_not_found` for an unknown id, `ClientError`, or
    ///   `CancellationError` when the task is cancelled.
    public func waitForAll(
        _ ids: [JobID],
        timeout: Duration? = nil,
        progressInterval: Duration? = nil,
        isolation: isolated (any Actor)? = #isolation,
        progress: (WaitProgress) -> Void = { _ in }
    ) async throws -> [JobRecord] {
        var seen = Set<JobID>()
        var tracker = WaitTracker(ids: ids.filter { seen.insert($0).inserted })
        if !tracker.ids.isEmpty {
            let deadline = timeout.map { ContinuousClock.now.advanced(by: max($0, .zero)) }
            try await follow(&tracker, until: deadline, progressInterval: progressInterval, progress: progress)
        }
        let missing = tracker.ids.filter { tracker.records[$0] == nil }
        try await readConcurrently(missing) { record in
            tracker.records[record.id] = record
        }
        return try ids.map { id in
            guard let record = tracker.records[id] else {
                throw ClientError(.badResponse, "jobd at \(socketPath) did not answer for job \(id)")
            }
            return record
        }
    }

    /// Reads jobs with at most `maxConcurrentReads` requests in flight, handing each
    /// record to `each` as it arrives (not in order).
    func readConcurrently(
        _ ids: [JobID],
        isolation: isolated (any Actor)? = #isolation,
        _ each: (JobRecord) -> Void
    ) async throws {
        guard !ids.isEmpty else { return }
        let client = self
        try await withThrowingTaskGroup(of: JobRecord.self) { group in
            var next = ids.makeIterator()
            for _ in 0..<Self.maxConcurrentReads {
                guard let id = next.next() else { break }
                group.addTask { try await client.job(id) }
            }
            while let record = try await group.next() {
                each(record)
                if let id = next.next() {
                    group.addTask { try await client.job(id) }
                }
            }
        }
    }

    /// Follows the jobs until all are finished or the deadline passes.
    ///
    /// The children (event stream, state reads, fallback long polls, ticker, deadline)
    /// only report through one message stream; this task alone owns `tracker`.
    private func follow(
        _ tracker: inout WaitTracker,
        until deadline: ContinuousClock.Instant?,
        progressInterval: Duration?,
        isolation: isolated (any Actor)? = #isolation,
        progress: (WaitProgress) -> Void
    ) async throws {
        let client = self
        let (messages, continuation) = AsyncStream.makeStream(of: WaitMessage.self)
        defer { continuation.finish() }
        let watched = Set(tracker.ids)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.relayEvents(of: watched, to: continuation) }
            if let deadline {
                group.addTask {
                    try await Task.sleep(until: deadline, clock: .continuous)
                    continuation.yield(.deadline)
                }
            }
            if let progressInterval {
                group.addTask {
                    while true {
                        try await Task.sleep(for: progressInterval)
                        continuation.yield(.tick)
                    }
                }
            }
            var isPolling = false
            receiving: for await message in messages {
                switch message {
                case .subscribed:
                    // Only now: a change after this read is in the stream, one before
                    // it is in the read.
                    let pending = tracker.pending
                    group.addTask { await client.relayReads(of: pending, to: continuation) }
                case .finished(let id, let failed):
                    if tracker.finish(id, failed: failed) {
                        progress(tracker.progress)
                    }
                case .record(let record):
                    if tracker.update(record) {
                        progress(tracker.progress)
                    }
                case .streamEnded:
                    guard !isPolling else { break }
                    isPolling = true
                    let pending = tracker.pending
                    group.addTask { await client.relayLongPolls(of: pending, until: deadline, to: continuation) }
                case .tick:
                    progress(tracker.progress)
                case .deadline:
                    break receiving
                case .failure(let error):
                    throw error
                }
                if tracker.isComplete {
                    break receiving
                }
            }
            // The stream and the polls run until cancelled; their errors past this
            // point are of no interest and are discarded with the group.
            group.cancelAll()
        }
    }

    /// Subscribes and relays the terminal events of the watched jobs; reports
    /// `streamEnded` when the stream cannot be opened, fails or ends.
    private func relayEvents(of watched: Set<JobID>, to continuation: AsyncStream<WaitMessage>.Continuation) async {
        do {
            let events = try await events()
            continuation.yield(.subscribed)
            for try await event in events {
                switch event.type {
                case .succeeded, .failed, .cancelled, .dependencyFailed:
                    if let id = event.jobID, watched.contains(id) {
                        continuation.yield(.finished(id, failed: event.type != .succeeded))
                    }
                default:
                    continue
                }
            }
        } catch is CancellationError {
            return
        } catch {
            // Any failure of the stream falls back to long polls, which report the
            // error themselves if jobd is really gone.
        }
        continuation.yield(.streamEnded)
    }

    /// Reads the jobs' current states and relays each record.
    private func relayReads(of ids: [JobID], to continuation: AsyncStream<WaitMessage>.Continuation) async {
        do {
            try await readConcurrently(ids) { record in continuation.yield(.record(record)) }
        } catch is CancellationError {
            return
        } catch {
            continuation.yield(.failure(error))
        }
    }

    /// Long-polls the jobs one after the other, relaying each record.
    private func relayLongPolls(
        of ids: [JobID], until deadline: ContinuousClock.Instant?,
        to continuation: AsyncStream<WaitMessage>.Continuation
    ) async {
        do {
            for id in ids {
                let remaining = deadline.map { max($0 - ContinuousClock.now, .zero) }
                continuation.yield(.record(try await wait(id, timeout: remaining)))
            }
        } catch is CancellationError {
            return
        } catch {
            continuation.yield(.failure(error))
        }
    }
}

/// What the children of `JobdClient.follow` report to it.
private enum WaitMessage: Sendable {
    /// The event stream is open: reading states now misses nothing.
    case subscribed
    /// A terminal event of a watched job.
    case finished(JobID, failed: Bool)
    /// A job's record, read or long-polled.
    case record(JobRecord)
    /// The event stream could not be opened, failed or ended.
    case streamEnded
    /// Time to refresh the progress display.
    case tick
    /// The timeout passed.
    case deadline
    /// A read failed; the wait fails with this error.
    case failure(any Error)
}

/// Which of the waited-for jobs are finished, and the records known so far.
private struct WaitTracker {
    /// The distinct jobs, in the order first given.
    let ids: [JobID]
    /// Records: terminal ones while waiting, then every job's after it.
    var records: [JobID: JobRecord] = [:]
    /// The finished jobs, each with whether it failed (or was cancelled).
    private var finished: [JobID: Bool] = [:]
    private var failedCount = 0

    init(ids: [JobID]) {
        self.ids = ids
    }

    var isComplete: Bool { finished.count == ids.count }

    /// The jobs not known to be finished, in order.
    var pending: [JobID] { ids.filter { finished[$0] == nil } }

    var progress: WaitProgress { WaitProgress(total: ids.count, done: finished.count, failed: failedCount) }

    /// Marks a job finished; returns false when it already was.
    mutating func finish(_ id: JobID, failed: Bool) -> Bool {
        guard finished[id] == nil else { return false }
        finished[id] = failed
        if failed {
            failedCount += 1
        }
        return true
    }

    /// Keeps a terminal record and marks its job finished; returns whether that changed
    /// the count. Records of unfinished jobs are stale by the time they are used and are
    /// not kept.
    mutating func update(_ record: JobRecord) -> Bool {
        guard record.state.isTerminal else { return false }
        records[record.id] = record
        return finish(record.id, failed: record.state != .succeeded)
    }
}
