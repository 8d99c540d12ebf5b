import JobdStore

/// A start-up failure: the message to log and the exit status.
struct StartFailure: Error {
    /// What failed and, where it helps, what to do about it.
    var message: String
    /// `.failure`, or `.damagedDatabase` when a restart cannot help.
    var exitStatus: DaemonExitStatus = .failure

    /// A failure to open, lock or recover the database at `path`: the store's message
    /// (it names the file and SQLite's reason) plus what to do about it.
    static func storage(_ error: any Error, path: String) -> StartFailure {
        guard let error = error as? StoreError else { return StartFailure(message: "\(error)") }
        switch error.code {
        case .corrupt:
            return StartFailure(
                message: "\(error). The file is damaged or is not a SQLite database; jobd leaves it as it is "
                    + "and does not start: move it aside (with its -wal and -shm files), restore a backup or "
                    + "recover what it holds with `sqlite3 \(path) .recover`, then start jobd again",
                exitStatus: .damagedDatabase)
        case .readOnly:
            return StartFailure(
                message: "\(error); jobd must be able to write \(path), the -wal and -shm files beside it and "
                    + "their directory: check owner, mode and attributes (lsattr -d) and that the file system "
                    + "is mounted read-write")
        case .busy:
            return StartFailure(
                message: "\(error); another process holds a lock on it: stop that process or wait for it")
        case .schemaTooNew:
            // The store's message says what to do; a restart cannot help (exit 65, which
            // the units list in RestartPreventExitStatus=).
            return StartFailure(message: "\(error)", exitStatus: .damagedDatabase)
        case .diskFull:
            return StartFailure(message: "\(error); free space on the file system that holds \(path)")
        case .ioError:
            return StartFailure(
                message: "\(error); the system failed to read or write \(path): check the kernel log and the disk")
        default:
            return StartFailure(message: "\(error)")
        }
    }
}
