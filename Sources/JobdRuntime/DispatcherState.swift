import Foundation
import HeapModule
import JobdModel
import JobdStore

/// Why a running attempt is asked to stop.
enum StopReason: Sendable {
    case cancelRequested
    case shutdown
    /// The node's lease ran out: another node may run the job now (self-fencing).
    case leaseLost
}

/// An attempt from its claim until its end is recorded.
struct RunningAttempt {
    var attemptID: Int64
    var kind: JobKind
    var host: String?
    /// Stops a task-run attempt; nil for a timed one, which the loop ends itself.
    var stop: OneShot<StopReason>?
    /// A cancel was answered `running` for this attempt: whatever end it reaches, the
    /// job must not run again (a retry or an interruption becomes `cancelled`).
    var cancelRequested = false
}

/// A timed attempt waiting for its deadline.
struct TimedRun {
    var job: ClaimedJob
    /// The outcome at the deadline: the plan's, or `.timedOut` when the job's
    /// timeout comes first.
    var outcome: AttemptRace
}

/// An attempt that ended and waits for the loop to record it.
struct EndedAttempt {
    var job: ClaimedJob
    var end: AttemptEnd
    /// When it ended: the attempt's recorded `finished_at`, not the later write's time.
    var at: Date
}

/// The dispatcher's shared state, behind its `Mutex`: every running attempt, the
/// deadline heap of timed ones, the ends waiting to be written, and the counters.
struct DispatcherState {
    /// Every attempt from its claim until its end is recorded (so an ended but not yet
    /// written attempt still holds its slot).
    var running: [JobID: RunningAttempt] = [:]
    var timed: [JobID: TimedRun] = [:]
    var deadlines = Heap<AttemptDeadline>()
    var ended: [EndedAttempt] = []
    var maxRunning = 0
    var workers: Int
    var submitted = 0
    var finished = 0
    var isShuttingDown = false
    var graceArmed = false
    /// Cancels that found the job running in the database before it registered.
    var pendingCancels: Set<JobID> = []
    /// The instant the armed timer wakes at, so a later one is not armed twice.
    var timerDeadline: ContinuousClock.Instant?
    var isLoopRunning = false
    var isPaused = false
    /// Running attempts per kind and per host, against their limits.
    var limits: AdmissionLimits

    /// Removes a finished attempt's slot, if `attemptID` still holds it.
    mutating func release(_ jobID: JobID, attemptID: Int64) {
        guard let running = running[jobID], running.attemptID == attemptID else { return }
        self.running[jobID] = nil
        limits.remove(kind: running.kind, host: running.host)
    }

    /// Takes the timed attempts due at `now` out of the heap.
    mutating func takeDue(_ now: ContinuousClock.Instant) -> [TimedRun] {
        var due: [TimedRun] = []
        while let top = deadlines.min, top.deadline <= now {
            deadlines.removeMin()
            if let run = timed[top.jobID], run.job.attemptID == top.attemptID {
                timed[top.jobID] = nil
                due.append(run)
            }
        }
        return due
    }
}
