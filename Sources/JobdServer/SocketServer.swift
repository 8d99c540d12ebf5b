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

/// The HTTP/1.1 server on the Unix socket: Hummingbird's server without its clock.
///
/// Hummingbird's `Application` keeps the `Date` header in a cache refreshed by a timer
/// every second, which wakes an idle daemon once a second for nothing. This service runs
/// the same router through the same HTTP/1.1 server, and formats the `Date` header when
/// a response needs it (at most once per second), so an idle jobd sleeps until a request
/// or a due job wakes it.
struct SocketServer: Service {
    let responder: RouterResponder<JobdRequestContext>
    let path: String
    let logger: Logger
    let onServerRunning: @Sendable (any Channel) async -> Void

    init(
        router: Router<JobdRequestContext>, path: String, logger: Logger,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void
    ) {
        self.responder = router.buildResponder()
        self.path = path
        self.logger = logger
        self.onServerRunning = onServerRunning
    }

    func run() async throws {
        let responder = self.responder
        let dateHeader = DateHeader()
        let logger = self.logger
        let server = try HTTPServerBuilder.http1().buildServer(
            configuration: ServerConfiguration(address: .unixDomainSocket(path: path), serverName: "jobd"),
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            logger: logger
        ) { request, responseWriter, channel in
            let context = JobdRequestContext(source: .init(channel: channel, logger: logger))
            var response: Response
            do {
                response = try await responder.respond(to: request, context: context)
            } catch let error as HTTPParserError {
                throw error
            } catch {
                // The error middleware answers every error; this is a last resort.
                logger.error("unhandled error", metadata: ["error": "\(error)"])
                response = Response(status: .internalServerError)
            }
            response.headers[.date] = dateHeader.current()
            response.headers[.server] = "jobd"
            try await responseWriter.write(response: response.head, body: response.body)
        } onServerRunning: { channel in
            await onServerRunning(channel)
        }
        try await server.run()
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
