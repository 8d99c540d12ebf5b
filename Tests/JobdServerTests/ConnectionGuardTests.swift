import HTTPTypes
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Testing

@testable import JobdServer

/// The connection limits of the socket server, without a socket: `ConnectionAdmission`'s
/// counting and `RequestGuardHandler` on an embedded channel with a manual clock.
/// (`EndToEndTests/HostileClientTests` drives both through the real jobd.)
@Suite struct ConnectionGuardTests {
    static let logger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }()

    static func admission(max: Int, perUID: Int?) -> ConnectionAdmission {
        ConnectionAdmission(
            limits: .init(maxConnections: max, maxPerUID: perUID, reserve: 2, privilegedUIDs: [0, 500]),
            logger: logger)
    }

    @Test("past the global cap only privileged uids get in, up to the reserve; a release frees a slot")
    func globalCapAndReserve() {
        let admission = Self.admission(max: 3, perUID: nil)
        #expect(admission.admit(uid: 1000) == nil)
        #expect(admission.admit(uid: 1001) == nil)
        #expect(admission.admit(uid: nil) == nil)
        #expect(admission.admit(uid: 1002)?.contains("server.max_connections") == true)
        #expect(admission.admit(uid: nil) != nil)
        // Root and the daemon's uid (500 here) use the reserve of 2, then are refused too.
        #expect(admission.admit(uid: 0) == nil)
        #expect(admission.admit(uid: 500) == nil)
        #expect(admission.admit(uid: 0) != nil)
        #expect(admission.open == 5)
        admission.release(uid: 1000)
        admission.release(uid: 0)
        #expect(admission.open == 3)
        // Still at the cap for others (3 open); the freed reserve slot is root's again.
        #expect(admission.admit(uid: 1002) != nil)
        #expect(admission.admit(uid: 0) == nil)
    }

    @Test("the per-uid cap stops one user while others and privileged uids still get in")
    func perUIDCap() {
        let admission = Self.admission(max: 100, perUID: 2)
        #expect(admission.admit(uid: 1000) == nil)
        #expect(admission.admit(uid: 1000) == nil)
        #expect(admission.admit(uid: 1000)?.contains("server.max_connections_per_uid") == true)
        #expect(admission.admit(uid: 1001) == nil)
        for _ in 0..<5 { #expect(admission.admit(uid: 0) == nil) }
        admission.release(uid: 1000)
        #expect(admission.admit(uid: 1000) == nil)
        #expect(admission.open == 8)
    }

    /// An active embedded channel with the guard (head deadline 2 s).
    static func channel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(handler: RequestGuardHandler(headTimeout: .seconds(2), logger: logger))
        try channel.connect(to: SocketAddress(unixDomainSocketPath: "/tmp/unused")).wait()
        return channel
    }

    static let head = HTTPRequestPart.head(HTTPRequest(method: .get, scheme: nil, authority: "l", path: "/v1/health"))

    @Test("a connection without a complete head within the deadline is closed; one with a head is not")
    func headDeadline() throws {
        let silent = try Self.channel()
        silent.embeddedEventLoop.advanceTime(by: .milliseconds(1999))
        #expect(silent.isActive)
        silent.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(!silent.isActive)

        let prompt = try Self.channel()
        prompt.embeddedEventLoop.advanceTime(by: .milliseconds(1900))
        try prompt.writeInbound(Self.head)
        try prompt.writeInbound(HTTPRequestPart.end(nil))
        // A long-poll: no answer for minutes, and the connection stays.
        prompt.embeddedEventLoop.advanceTime(by: .seconds(600))
        #expect(prompt.isActive)
        _ = try prompt.finish()
    }

    @Test("between requests only bytes of a next request start the deadline")
    func keepAlive() throws {
        let channel = try Self.channel()
        try channel.writeInbound(Self.head)
        try channel.writeInbound(HTTPRequestPart.end(nil))
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        // Idle between requests: left to the idle timeout (not this handler's).
        channel.embeddedEventLoop.advanceTime(by: .seconds(600))
        #expect(channel.isActive)
        // Bytes arrive but no head is decoded: the next request has begun.
        channel.pipeline.fireChannelReadComplete()
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1999))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(!channel.isActive)
    }

    @Test("a response with Connection: close closes the connection once written")
    func connectionClose() throws {
        let channel = try Self.channel()
        try channel.writeInbound(Self.head)
        var response = HTTPResponse(status: .contentTooLarge)
        response.headerFields[.connection] = "close"
        try channel.writeOutbound(HTTPResponsePart.head(response))
        #expect(channel.isActive)
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        #expect(!channel.isActive)
        // What was written before the close is out.
        guard case .head(let written) = try channel.readOutbound(as: HTTPResponsePart.self) else {
            Issue.record("no response head written")
            return
        }
        #expect(written.status == .contentTooLarge)
    }
}
