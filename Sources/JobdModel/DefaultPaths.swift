/// Where the daemon puts its socket and database when nothing else is configured.
///
/// Root uses `/run/jobd/jobd.sock` and `/var/lib/jobd/jobd.sqlite`. Other users use
/// `$XDG_RUNTIME_DIR/jobd/jobd.sock` (else `/tmp/jobd-$UID/jobd.sock`) and
/// `$XDG_STATE_HOME/jobd/jobd.sqlite` (else `$HOME/.local/state/jobd/jobd.sqlite`).
/// `jobd` and `jobctl` both use this, so they meet without configuration.
public struct DefaultPaths: Sendable, Hashable {
    /// The socket path.
    public var socket: String
    /// The database path.
    public var database: String

    /// Computes the defaults for a user and an environment.
    ///
    /// - Parameters:
    ///   - uid: The effective user id.
    ///   - environment: The process environment (`XDG_RUNTIME_DIR`, `XDG_STATE_HOME`, `HOME`).
    public init(uid: UInt32, environment: [String: String]) {
        if uid == 0 {
            socket = "/run/jobd/jobd.sock"
            database = "/var/lib/jobd/jobd.sqlite"
            return
        }
        if let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty {
            socket = runtime + "/jobd/jobd.sock"
        } else {
            socket = "/tmp/jobd-\(uid)/jobd.sock"
        }
        if let state = environment["XDG_STATE_HOME"], !state.isEmpty {
            database = state + "/jobd/jobd.sqlite"
        } else if let home = environment["HOME"], !home.isEmpty {
            database = home + "/.local/state/jobd/jobd.sqlite"
        } else {
            database = "/tmp/jobd-\(uid)/jobd.sqlite"
        }
    }
}
