import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A program run to its end with its own memory use and wall time.
///
/// The memory figures are sampled from `/proc/<pid>/status` every millisecond while the
/// child runs: `VmHWM` (its peak resident set: its own pages, and the binary's and shared
/// libraries' pages it touched) and `RssAnon` (its heap and stacks, the memory that grows
/// with what it buffers). `wait4`'s `ru_maxrss` cannot be used: `posix_spawn` starts the
/// child in the test process's address space, and Linux carries that address space's peak
/// into the child's `ru_maxrss` across `exec`.
struct MeasuredProcess: CustomStringConvertible {
    /// The exit status, or 128 + the signal that ended it.
    var status: Int32
    /// The highest `VmHWM` sampled, in KiB.
    var peakRSSKiB: Int
    /// The highest `RssAnon` sampled, in KiB.
    var peakAnonKiB: Int
    /// From the spawn to the reaping.
    var elapsed: Duration

    var description: String {
        "exit \(status), peak RSS \(peakRSSKiB) KiB (anonymous \(peakAnonKiB) KiB), \(elapsed)"
    }

    /// Runs `executable` with `arguments`, stdout to the file `stdoutPath` (created or
    /// truncated), stdin and stderr from and to `/dev/null`.
    static func run(_ executable: URL, _ arguments: [String], stdoutPath: String) async throws -> MeasuredProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = ([executable.path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let environment = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { environment.forEach { free($0) } }
        var pid: pid_t = 0
        let started = ContinuousClock.now
        let spawned = posix_spawn(&pid, executable.path, &actions, nil, argv, environment)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO) }
        let child = pid
        // Sampling and wait4 block: a thread of their own, not the cooperative pool.
        let (status, peak, anon) = await withCheckedContinuation {
            (continuation: CheckedContinuation<(Int32, Int, Int), Never>) in
            Thread.detachNewThread {
                var status: Int32 = 0
                var (peak, anon) = (0, 0)
                while true {
                    let sample = Self.sample(child)
                    peak = max(peak, sample.peak)
                    anon = max(anon, sample.anon)
                    let reaped = waitpid(child, &status, WNOHANG)
                    if reaped == child || (reaped < 0 && errno != EINTR) { break }
                    usleep(1000)
                }
                continuation.resume(returning: (status, peak, anon))
            }
        }
        let elapsed = ContinuousClock.now - started
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import.
        let exitStatus = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return MeasuredProcess(status: exitStatus, peakRSSKiB: peak, peakAnonKiB: anon, elapsed: elapsed)
    }

    /// `VmHWM` and `RssAnon` of a running process, in KiB; zeros once it has exited.
    private static func sample(_ pid: pid_t) -> (peak: Int, anon: Int) {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return (0, 0) }
        func value(_ key: String) -> Int {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(key + ":") }) else { return 0 }
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        }
        return (value("VmHWM"), value("RssAnon"))
    }
}
