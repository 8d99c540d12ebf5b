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
    /// False while the attempt waits for its host's rate limit, and for one that ended
    /// without starting: it holds no worker slot and never counted against its kind's limit.
    var isStarted = true
}

/// A claimed fetch waiting for its host's rate limit, without a worker slot.
struct RateWait {
    var job: ClaimedJob
    /// The `host:port` whose token it waits for.
    var host: String
    /// When its token is due.
    var startsAt: ContinuousClock.Instant
    /// `startsAt` on the wall clock, for the API.
    var startsAtDate: Date
}

/// A timed attempt waiting for its deadline.
///
/// A class, so that `DispatcherState.timed` holds one pointer per attempt: the dictionary
/// rehashes and moves every entry under the state's lock each time it doubles, and with the
/// claimed job inline (hundreds of bytes) the doubling past 65,536 delay jobs held the lock
/// for 30 ms (W4's slowest status reads under W2 100k, docs/benchmarks.md).
final class TimedRun: Sendable {
    let job: ClaimedJob
    /// The outcome at the deadline: the plan's, or `.timedOut` when the job's
    /// timeout comes first.
    let outcome: AttemptRace

    init(job: ClaimedJob, outcome: AttemptRace) {
        self.job = job
        self.outcome = outcome
    }
}

/// An attempt that ended and waits for the loop to record it.
struct EndedAttempt {
    var job: ClaimedJob
    var end: AttemptEnd
    /// When it ended: the attempt's recorded `finished_at`, not the later write's time.
    var at: Date
}

/// The dispatcher's shared state, behind its `Mutex`: every running attempt, the
/// deadline heap of timed ones, the fetches waiting for a rate limit, the ends waiting to
/// be written, and the counters.
struct DispatcherState {
    /// Every attempt from its claim until its end is recorded (so an ended but not yet
    /// written attempt still holds its slot), rate-limit waits included.
    var running: [JobID: RunningAttempt] = [:]
    /// The attempts of `running` that wait for their host's rate limit.
    var waiting: [JobID: RateWait] = [:]
    /// How many attempts of `running` never started (waits, and waits that ended): they
    /// hold no slot.
    private(set) var unstarted = 0
    /// When each wait's token is due (entries of ended waits are skipped when reached).
    var waitDeadlines = Heap<AttemptDeadline>()
    /// Waits whose token is due, in due order: they take free slots before a claim does.
    var ready: [AttemptRef] = []
    /// The token buckets of the rate-limited hosts.
    var rateLimiter: HostRateLimiter
    var timed: [JobID: TimedRun] = [:]
    var deadlines = Heap<AttemptDeadline>()
    var ended: [EndedAttempt] = []
    var maxRunning = 0
    var workers: Int
    var submitted = 0
    var finished = 0
    /// Rate-limit waits begun since start (a counter: it never goes down).
    var rateLimitWaits = 0
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

    /// The attempts that hold a worker slot: the registered ones that started.
    var slotted: Int { running.count - unstarted }

    /// Registers a claimed attempt (replacing a stale entry of the job, if any).
    mutating func register(_ jobID: JobID, _ attempt: RunningAttempt) {
        if let old = running[jobID], !old.isStarted { unstarted -= 1 }
        if !attempt.isStarted { unstarted += 1 }
        running[jobID] = attempt
    }

    /// Registers a claimed fetch that waits for its token, holding no slot.
    mutating func registerWait(_ wait: RateWait) {
        let job = wait.job
        register(
            job.id,
            RunningAttempt(attemptID: job.attemptID, kind: job.spec.kind, host: wait.host, stop: nil, isStarted: false))
        limits.add(host: wait.host)
        waiting[job.id] = wait
        rateLimitWaits += 1
        waitDeadlines.insert(AttemptDeadline(deadline: wait.startsAt, jobID: job.id, attemptID: job.attemptID))
    }

    /// Starts a wait: it takes a slot and counts against its kind from now on.
    mutating func start(_ wait: RateWait, stop: OneShot<StopReason>) {
        let id = wait.job.id
        waiting[id] = nil
        running[id]?.stop = stop
        running[id]?.isStarted = true
        unstarted -= 1
        limits.add(kind: wait.job.spec.kind)
        maxRunning = max(maxRunning, slotted)
    }

    /// Removes a finished attempt's slot, if `attemptID` still holds it.
    mutating func release(_ jobID: JobID, attemptID: Int64) {
        guard let running = running[jobID], running.attemptID == attemptID else { return }
        self.running[jobID] = nil
        if waiting[jobID]?.job.attemptID == attemptID { waiting[jobID] = nil }
        if !running.isStarted { unstarted -= 1 }
        limits.remove(kind: running.isStarted ? running.kind : nil, host: running.host)
    }

    /// Moves the waits whose token is due at `now` to the end of `ready`.
    mutating func takeDueWaits(_ now: ContinuousClock.Instant) {
        while let top = waitDeadlines.min, top.deadline <= now {
            waitDeadlines.removeMin()
            if let wait = waiting[top.jobID], wait.job.attemptID == top.attemptID {
                ready.append(wait.job.attempt)
            }
        }
    }

    /// Takes every wait out (a shutdown, a lost lease): they are no longer registered as
    /// waits (still in `running`, without a slot, until released or their end is written).
    mutating func takeAllWaits() -> [RateWait] {
        let waits = waiting.values.sorted { $0.startsAt < $1.startsAt }
        waiting.removeAll()
        waitDeadlines = Heap()
        ready.removeAll()
        return waits
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
