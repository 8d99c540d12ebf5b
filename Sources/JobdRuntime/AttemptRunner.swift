import JobdModel
import JobdStore

/// How a task-run attempt came out of its race.
enum AttemptRace: Sendable {
    case finished(Result<JobResult, any Error>)
    case timedOut
    case stopped(StopReason)
}

/// Runs one attempt's executor against its timeout and a stop signal (a cancel, the end of
/// the shutdown grace): the first to finish wins, and the losers are cancelled, so a
/// cancelled fetch aborts its request.
struct AttemptRunner: Sendable {
    let executors: [JobKind: any JobExecutor]
    let clock: any Clock<Duration>

    /// Runs the executor against the timeout and the stop signal; the first to finish wins.
    func race(_ job: ClaimedJob, stop: OneShot<StopReason>) async -> AttemptRace {
        guard let executor = executors[job.spec.kind] else {
            return .finished(.failure(ExecutionFailure(.internal, "no executor for \(job.spec.kind) jobs")))
        }
        return await withTaskGroup(of: AttemptRace?.self) { group in
            group.addTask {
                do {
                    return .finished(.success(try await executor.execute(job)))
                } catch {
                    return .finished(.failure(error))
                }
            }
            if let timeout = job.timeout {
                group.addTask {
                    guard (try? await clock.sleep(for: .nanoseconds(Int64(timeout * 1e9)))) != nil else {
                        return nil
                    }
                    return .timedOut
                }
            }
            group.addTask { await stop.wait().map(AttemptRace.stopped) }
            var winner: AttemptRace?
            while winner == nil, let next = await group.next() {
                winner = next
            }
            group.cancelAll()
            guard let winner else {
                preconditionFailure("the executor child always returns a result")
            }
            return winner
        }
    }
}
