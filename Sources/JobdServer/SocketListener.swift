/// Where the API server's listening socket comes from.
public enum SocketListener: Sendable {
    /// jobd binds `ServerOptions.socketPath` itself, then gives the file its group and mode;
    /// the daemon removes it at exit (`SocketFile`).
    case bind
    /// A listening Unix stream socket that systemd bound and passed (socket activation).
    ///
    /// jobd serves on it as on its own socket (same peer-credential and access checks)
    /// but leaves the file alone: systemd's socket unit sets its mode and group and keeps
    /// it across restarts. `handoff` stops accepting on SIGTERM; run it as a service.
    case inherited(descriptor: Int32, handoff: ListenerHandoff)
}
