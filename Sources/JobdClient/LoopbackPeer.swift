import JobdLoopback
import NIOCore
import NIOPosix

/// Who opened a loopback TCP connection to `jobctl dashboard`'s forwarder: the uid that
/// owns its other end, from the kernel's socket tables (`LoopbackSockets`).
enum LoopbackPeer {
    /// The uid owning the client end of a connection accepted on `localPort` from
    /// `remotePort`, or nil when no such socket is listed (it closed, or this is not Linux).
    ///
    /// Reads two small files on the NIO thread pool, off the cooperative pool.
    static func uid(localPort: Int, remotePort: Int) async -> UInt32? {
        let uid = try? await NIOThreadPool.singleton.runIfActive {
            LoopbackSockets.uid(localPort: localPort, remotePort: remotePort)
        }
        return uid ?? nil
    }
}
