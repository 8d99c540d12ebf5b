import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The HTTP/1.1 server on the Unix socket: Hummingbird's server without its clock, with
/// limits for hostile clients.
///
/// Hummingbird's `Application` keeps the `Date` header in a cache refreshed by a timer
/// every second, which wakes an idle daemon once a second for nothing. This service runs
/// the same router through the same HTTP/1.1 server, and formats the `Date` header when
/// a response needs it (at most once per second), so an idle jobd sleeps until a request
/// or a due job wakes it.
///
/// Limits (`ServerOptions`): connections in total and per uid (`JobdHTTPChannel`,
/// `ConnectionAdmission`), Hummingbird's idle timeout, a request-head deadline and
/// closing after a 413 (`RequestGuardHandler`). Header limits are Hummingbird's (NIO's
/// decoder: 80 KiB per field and in all, 1000 fields): past them the answer is 400 and
/// the connection is closed.
///
/// The same server also runs the dashboard's loopback TCP listener (`listen` set): there
/// no peer credentials exist, requests are marked `.loopbackTCP`, and only a dashboard
/// token or cookie lets them in (`DashboardGate`).
struct SocketServer: Service {
    let responder: RouterResponder<JobdRequestContext>
    let path: String
    /// A loopback TCP address to listen on instead of the socket.
    var listen: (host: String, port: Int)?
    let listener: SocketListener
    let options: ServerOptions
    let logger: Logger
    let onServerRunning: @Sendable (any Channel) async -> Void

    /// File descriptors kept out of the connection budget: the database, the fetch
    /// client's sockets, the log; at least this many, or an eighth of the limit.
    static let reservedDescriptors = 256

    /// The listen backlog. Connects past it fail at once (EAGAIN) for non-blocking clients
    /// (NIO, so jobctl); connects in it wait their turn, about backlog / accept rate
    /// (1024 / ~20,000 a second in release: ~50 ms) in a connect storm. The kernel caps
    /// it at net.core.somaxconn. systemd/jobd.socket sets the same.
    static let backlog = 1024

    init(
        router: Router<JobdRequestContext>, path: String, listener: SocketListener = .bind, options: ServerOptions,
        logger: Logger, onServerRunning: @escaping @Sendable (any Channel) async -> Void
    ) {
        self.responder = router.buildResponder()
        self.path = path
        self.listener = listener
        self.options = options
        self.logger = logger
        self.onServerRunning = onServerRunning
    }

    /// `maxConnections` lowered, when needed, so that connections (with the operator's
    /// reserve) cannot use up the open-file limit that the database and fetches need too.
    static func connectionBudget(maxConnections: Int, openFileLimit: UInt64) -> Int {
        let limit = Int(min(openFileLimit, UInt64(Int.max / 2)))
        let kept = max(reservedDescriptors, limit / 8) + ServerOptions.reservedConnections
        return max(1, min(maxConnections, limit - kept))
    }

    func run() async throws {
        let responder = self.responder
        let dateHeader = DateHeader()
        let logger = self.logger
        let fileLimit = OpenFileLimit.current()
        let maxConnections = Self.connectionBudget(
            maxConnections: options.maxConnections, openFileLimit: fileLimit.soft)
        if maxConnections < options.maxConnections {
            logger.warning(
                "server.max_connections lowered to fit the open-file limit; raise LimitNOFILE to allow more",
                metadata: [
                    "server.max_connections": "\(options.maxConnections)", "connections.limit": "\(maxConnections)",
                    "rlimit_nofile.soft": "\(fileLimit.soft)",
                ])
        }
        let admission = ConnectionAdmission(
            limits: .init(
                maxConnections: maxConnections, maxPerUID: options.maxConnectionsPerUID,
                reserve: ServerOptions.reservedConnections, privilegedUIDs: [0, geteuid()]),
            logger: logger)
        let handoff: ListenerHandoff?
        if case .inherited(_, let inheritedHandoff) = listener { handoff = inheritedHandoff } else { handoff = nil }
        let headTimeout = options.requestHeadTimeout.map(TimeAmount.init)
        let configuration = HTTP1Channel.Configuration(
            additionalChannelHandlers: [RequestGuardHandler(headTimeout: headTimeout, logger: logger)],
            idleTimeout: options.idleTimeout.map(TimeAmount.init))
        let transport: ServerTransport = listen == nil ? .unixSocket : .loopbackTCP
        let http1 = HTTP1Channel(
            responder: { request, responseWriter, channel in
                // Every log line of a request carries its id, as under Hummingbird's Application.
                var requestLogger = logger
                requestLogger[metadataKey: "hb.request.id"] = .stringConvertible(RequestID())
                var context = JobdRequestContext(source: .init(channel: channel, logger: requestLogger))
                context.transport = transport
                // A hand-off to the next jobd waits for writes (submits) to be answered.
                let isWrite = request.method != .get && request.method != .head
                handoff?.requestBegan(on: channel, isWrite: isWrite)
                defer { handoff?.requestEnded(isWrite: isWrite) }
                var response: Response
                do {
                    response = try await responder.respond(to: request, context: context)
                } catch let error as HTTPParserError {
                    throw error
                } catch {
                    // The error middleware answers every error; this is a last resort.
                    requestLogger.error("unhandled error", metadata: ["error": "\(error)"])
                    response = Response(status: .internalServerError)
                }
                if response.status == .contentTooLarge {
                    // The body may still be coming (a declared 1 GiB): close rather than
                    // read it to reach a next request (RequestGuardHandler closes).
                    response.headers[.connection] = "close"
                }
                response.headers[.date] = dateHeader.current()
                response.headers[.server] = "jobd"
                do {
                    try await responseWriter.write(response: response.head, body: response.body)
                } catch is HTTPParserError {
                    // The next pipelined request failed to parse while this response was
                    // being written. Thrown on as a parse error, it would make the HTTP
                    // channel write a 400 after part of this response: end the connection
                    // instead (as Hummingbird's Application.run does).
                    throw ParseErrorWhileWritingResponse()
                }
            },
            configuration: configuration)
        let channel = JobdHTTPChannel(
            http1: http1, admission: admission, peers: .shared, readsCredentials: listen == nil)
        if listen == nil, case .inherited(let descriptor, let handoff) = listener {
            try await InheritedSocketServer(
                descriptor: descriptor, backlog: Int32(Self.backlog), childChannel: channel, handoff: handoff,
                logger: logger, onServerRunning: onServerRunning
            ).run()
            return
        }
        let address: BindAddress =
            if let listen { .hostname(listen.host, port: listen.port) } else { .unixDomainSocket(path: path) }
        let server = channel.server(
            configuration: ServerConfiguration(
                address: address, serverName: "jobd", backlog: Self.backlog,
                // A last stop should refusals churn faster than they close.
                availableConnectionsDelegate: MaximumAvailableConnections(
                    maxConnections + 2 * ServerOptions.reservedConnections, logger: logger)),
            onServerRunning: { channel in await onServerRunning(channel) },
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            logger: logger)
        try await server.run()
    }
}

/// A request failed to parse while the response before it was being written.
struct ParseErrorWhileWritingResponse: Error {}

/// The process's open-file limit (`RLIMIT_NOFILE`).
public struct OpenFileLimit: Sendable, Equatable, CustomStringConvertible {
    public var soft: UInt64
    public var hard: UInt64

    public var description: String { "soft \(soft) hard \(hard)" }

    #if os(Linux)
        private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
        private static let resource = RLIMIT_NOFILE
    #endif

    /// The limit now.
    public static func current() -> OpenFileLimit {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else {
            return OpenFileLimit(soft: 1024, hard: 1024)
        }
        return OpenFileLimit(soft: UInt64(limit.rlim_cur), hard: UInt64(limit.rlim_max))
    }

    /// Raises the soft limit to the hard limit, as Go's runtime does at start: the soft
    /// default (often 1024) is for select(2) users, which jobd is not, and thousands of
    /// connections need more.
    ///
    /// - Returns: The limit before and after; after equals before when it was already
    ///   at the hard limit or could not be raised (then `errno` says why).
    public static func raiseSoftToHard() -> (before: OpenFileLimit, after: OpenFileLimit, errno: Int32?) {
        let before = current()
        guard before.soft < before.hard else { return (before, before, nil) }
        var limit = rlimit(rlim_cur: rlim_t(before.hard), rlim_max: rlim_t(before.hard))
        guard setrlimit(resource, &limit) == 0 else { return (before, before, errno) }
        return (before, current(), nil)
    }
}

/// The `Date` header value, formatted at most once per second, on demand.
final class DateHeader: Sendable {
    private let cache = Mutex<(second: Int, text: String)>((-1, ""))

    func current() -> String {
        let now = Date()
        let second = Int(now.timeIntervalSince1970)
        return cache.withLock { cache in
            if cache.second != second {
                cache = (second, Self.format(now))
            }
            return cache.text
        }
    }

    /// IMF-fixdate (RFC 9110 5.6.7): `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func format(_ date: Date) -> String {
        var time = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&time, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return String(
            format: "%@, %02d %@ %04d %02d:%02d:%02d GMT", days[Int(parts.tm_wday)], Int(parts.tm_mday),
            months[Int(parts.tm_mon)], Int(parts.tm_year) + 1900, Int(parts.tm_hour), Int(parts.tm_min),
            Int(parts.tm_sec))
    }
}
