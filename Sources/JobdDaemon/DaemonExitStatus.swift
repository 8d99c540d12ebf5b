/// How a run of the daemon ends, as the exit status of its process.
///
/// `Daemon.run(_:)` answers with one; the `jobd` executable exits with its `rawValue`.
/// The codes come from sysexits(3) where one fits. The systemd units list 65 and 78 in
/// `RestartPreventExitStatus=`: restarting cannot fix a damaged file or a bad
/// configuration, and a restart loop would bury the message in the journal.
public struct DaemonExitStatus: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The process exit status.
    public var rawValue: Int32

    /// Wraps an exit status.
    ///
    /// - Parameter rawValue: The process exit status.
    public init(rawValue: Int32) {
        self.rawValue = rawValue
    }

    /// The number, as the shell shows it.
    public var description: String { "\(rawValue)" }

    /// 0: stopped cleanly after SIGTERM or SIGINT, or `--check-config` found no fault.
    public static let success = DaemonExitStatus(rawValue: 0)
    /// 1: could not start (socket, lock, store, notify socket) or a service failed.
    public static let failure = DaemonExitStatus(rawValue: 1)
    /// 65, `EX_DATAERR`: the database file is damaged or is not a SQLite database, or a
    /// newer jobd has migrated the database (`schema_too_new`).
    public static let damagedDatabase = DaemonExitStatus(rawValue: 65)
    /// 78, `EX_CONFIG`: a bad value, an unknown key or an unreadable configuration file.
    public static let badConfiguration = DaemonExitStatus(rawValue: 78)
}
