import Foundation
import JobdStore

/// How hard SQLite works to make a commit durable.
public enum SynchronousMode: String, Sendable, CaseIterable {
    /// fsync on every commit: a commit survives a power cut. The default.
    case full = "FULL"
    /// fsync at checkpoints only: a commit survives a process crash, not a power cut.
    case normal = "NORMAL"
}

/// Settings of the store.
public struct SQLiteStoreOptions: Sendable {
    /// How durable a commit is.
    public var synchronous: SynchronousMode
    /// How many reader connections may run at once.
    public var maxReaders: Int
    /// How long a write waits for a lock held by another process before it fails `busy`.
    ///
    /// 2 s: below the watchdog's ping interval (half of the unit's `WatchdogSec=10s`). The
    /// writer probe joins no transaction, so it waits at most for the group ahead of it
    /// (one busy timeout), and a database held by a backup tool or an `sqlite3` shell does
    /// not get jobd killed as hung.
    public var busyTimeout: Duration
    /// Which claims to keep an index for, at open: `perUID` keeps `jobs_fair` and drops
    /// `jobs_queue`, `off` the other way round (each costs every insert and claim), nil
    /// leaves both as they are. A claim builds the index it needs when it is missing,
    /// whatever this says.
    public var fairShare: FairShare?

    public init(
        synchronous: SynchronousMode = .full, maxReaders: Int = 4, busyTimeout: Duration = .seconds(2),
        fairShare: FairShare? = nil
    ) {
        self.synchronous = synchronous
        self.maxReaders = maxReaders
        self.busyTimeout = busyTimeout
        self.fairShare = fairShare
    }
}
