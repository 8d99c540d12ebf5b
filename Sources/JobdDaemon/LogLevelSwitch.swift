import Logging
import Synchronization

/// The daemon-wide log level, shared by every logger and changed live on SIGHUP.
///
/// Each `DaemonLogHandler` reads it on every check, so a new level applies to loggers
/// that already exist (the dispatcher's, the server's) without rebuilding them.
final class LogLevelSwitch: Sendable {
    private let level: Mutex<Logger.Level>

    /// Makes a switch at `level`.
    init(_ level: Logger.Level) {
        self.level = Mutex(level)
    }

    /// The level now.
    var current: Logger.Level { level.withLock { $0 } }

    /// Changes the level for every logger.
    func set(_ newLevel: Logger.Level) {
        level.withLock { $0 = newLevel }
    }
}
