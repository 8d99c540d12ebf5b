import Foundation

#if canImport(Glibc)
    import Glibc
#endif
// With the static Swift standard library, `struct stat` is owned by libdispatch's C
// module: member import visibility wants it imported to read `st_dev` and `st_ino`.
#if canImport(CDispatch)
    import CDispatch
#endif

/// Whether stderr is connected to the journal, as systemd tells a service it started.
///
/// systemd sets `$JOURNAL_STREAM` to `<device>:<inode>` (decimal) of the stream socket it
/// connected stdout and stderr to. The variable is inherited by children whose stderr may
/// be something else, so it only counts when it names what file descriptor 2 is now
/// (systemd.exec(5), "$JOURNAL_STREAM").
enum JournalStream {
    /// True when `$JOURNAL_STREAM` names the file on file descriptor 2.
    static func isStandardError(environment: [String: String]) -> Bool {
        var status = stat()
        guard fstat(2, &status) == 0 else { return false }
        return matches(environment["JOURNAL_STREAM"], device: UInt64(status.st_dev), inode: UInt64(status.st_ino))
    }

    /// True when `value` (`$JOURNAL_STREAM`) is `<device>:<inode>` of this device and inode.
    static func matches(_ value: String?, device: UInt64, inode: UInt64) -> Bool {
        guard let value else { return false }
        let parts = value.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let streamDevice = UInt64(parts[0]), let streamInode = UInt64(parts[1]) else {
            return false
        }
        return streamDevice == device && streamInode == inode
    }
}
