import DequeModule
import Foundation

/// The threads that serve HTTP connections, on which a store may read synchronously.
///
/// Each connection's task runs here (`withTaskExecutorPreference`, in the server's channel
/// handler), not on the cooperative pool, and a store's read made from one of these threads
/// runs on the spot instead of hopping to a reader queue and back. A status read then takes
/// two thread hand-offs (the event loop to here, here to the event loop) instead of five
/// (event loop, pool, GRDB's reader-pool queue, the reader's queue, pool, event loop). Each
/// hand-off wakes a thread, and on a loaded two-vCPU machine the kernel may queue that thread
/// behind the busy writer until its next tick (4 ms here): the slowest 1 % of `GET
/// /v1/jobs/{id}` under W2 100k was 6-8 ms with five, 4.0-4.4 ms with two
/// (docs/benchmarks.md, W4).
///
/// Blocking here is allowed, which it is not on the cooperative pool or an event loop: these
/// threads exist for request work that may wait briefly on SQLite (a read in WAL mode never
/// waits for the writer). Work that waits for long must still suspend, as waits and event
/// streams do.
public final class RequestExecutor: TaskExecutor, @unchecked Sendable {
    /// The one executor of the process, made at its first use.
    ///
    /// Four threads: a few slow reads (a large result, counts over a big table) cannot take
    /// every thread, and more runnable threads than that on a small machine only queue.
    public static let shared = RequestExecutor(threads: 4)

    private let condition = NSCondition()
    /// Guarded by `condition`.
    private var jobs = Deque<UnownedJob>()

    /// The key of the per-thread mark "this thread is a request thread".
    private static let threadKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// True on a thread of a `RequestExecutor`: a store may block it on a short read.
    public static var isCurrentThread: Bool {
        pthread_getspecific(threadKey) != nil
    }

    /// Starts `threads` threads (at least one), named `name-N`, which live as long as the
    /// process.
    public init(threads: Int, name: String = "jobd-request") {
        for index in 0..<max(1, threads) {
            let threadName = "\(name)-\(index)"
            let thread = Thread { [self] in
                pthread_setspecific(Self.threadKey, UnsafeRawPointer(bitPattern: 1))
                // Named from inside: set from outside, the name does not reach the kernel
                // (`top -H`, `perf` would show the creating thread's name).
                Thread.current.name = threadName
                runJobs()
            }
            thread.start()
        }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func runJobs() -> Never {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
