/// How a request reached jobd.
public enum ServerTransport: Sendable, Hashable {
    /// The Unix socket: the peer is known from `SO_PEERCRED`.
    case unixSocket
    /// The dashboard's loopback TCP listener (`dashboard.listen`): there is no peer; only a
    /// dashboard token or cookie says who is asking.
    case loopbackTCP
}
