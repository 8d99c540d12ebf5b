import Foundation
import Hummingbird
import JobdModel
import JobdRuntime
import NIOCore

/// `GET /v1/events`: every job state change as server-sent events.
///
/// Each event is `id: N`, `event: TYPE`, `data: {JobEvent JSON}` and a blank line. A
/// subscriber that reads too slowly is dropped with a final `lagged` event; the daemon
/// never waits for it. The stream ends when the daemon stops. A caller who is not an
/// admin gets the events of their own jobs only.
struct EventsController: Sendable {
    typealias Context = JobdRequestContext

    let events: EventBroadcaster

    func add(to router: Router<Context>) {
        router.get("/v1/events", use: stream)
    }

    @Sendable func stream(_ request: Request, context: Context) async throws -> Response {
        let caller = try context.requireCaller()
        // Subscribe before answering, so nothing between the request and the first write
        // is missed.
        let subscription = events.subscribe(submitterUID: caller.submitterScope)
        let events = self.events
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                defer { events.unsubscribe(subscription) }
                let encoder = JSONCoding.makeEncoder()
                // An opening comment makes the headers and the stream visible at once.
                try await writer.write(ByteBuffer(string: ": jobd events\n\n"))
                for await event in subscription.events {
                    try await writer.write(try Self.frame(event, encoder: encoder))
                }
                if subscription.isLagged {
                    let lagged = JobEvent(
                        id: events.lastEventID, type: .lagged, jobID: nil, state: nil)
                    try await writer.write(try Self.frame(lagged, encoder: encoder))
                }
                try await writer.finish(nil)
            })
    }

    static func frame(_ event: JobEvent, encoder: JSONEncoder) throws -> ByteBuffer {
        let data = try encoder.encode(event)
        var buffer = ByteBuffer()
        buffer.writeString("id: \(event.id)\nevent: \(event.type.rawValue)\ndata: ")
        buffer.writeBytes(data)
        buffer.writeString("\n\n")
        return buffer
    }
}
