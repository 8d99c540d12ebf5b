import JobdLoopback
import Testing

/// The owner look-up of the dashboard listener and `jobctl dashboard`'s forwarder
/// (`LoopbackSockets`), on a fixed `/proc/net/tcp` table.
@Suite struct LoopbackPeerTests {
    static let table = """
          sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 0100007F:AD9C 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1
           1: 0100007F:C350 0100007F:AD9C 01 00000000:00000000 00:00000000 00000000  1001        0 4243 1
           2: 0100007F:AD9C 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 4244 1
        """

    @Test("the client socket is the one from the connection's remote port to its local port")
    func clientEnd() {
        // The forwarder listens on 0xAD9C (44444); a client connected from 0xC350 (50000).
        #expect(LoopbackSockets.uid(in: Self.table, localPort: 44444, remotePort: 50000) == 1001)
        #expect(LoopbackSockets.uid(in: Self.table, localPort: 44444, remotePort: 50001) == nil)
    }

    @Test("a /proc file is read to its end, past a page")
    func readAll() throws {
        let text = try #require(LoopbackSockets.readAll("/proc/self/maps"))
        #expect(!text.isEmpty)
        #expect(LoopbackSockets.readAll("/nonexistent/file") == nil)
    }
}
