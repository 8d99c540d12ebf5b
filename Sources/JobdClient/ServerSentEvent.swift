/// One event of a `text/event-stream` body, as `ServerSentEventParser` dispatches it.
///
/// Field semantics follow the HTML "server-sent events" specification: `type` is the
/// last `event:` field of the event (`message` when it has none), `data` is its `data:`
/// lines joined with `\n`, and `id` is the stream's last event id at dispatch time.
public struct ServerSentEvent: Hashable, Sendable {
    /// The event's type: its `event:` field, or `message` when it has none.
    public var type: String
    /// The `data:` lines of the event, joined with `\n` (no trailing newline).
    public var data: String
    /// The last `id:` field seen in the stream up to and including this event, or nil
    /// when there was none.
    public var id: String?

    /// Makes an event.
    ///
    /// - Parameters:
    ///   - type: The event's type; `message` when the stream gave none.
    ///   - data: The event's data.
    ///   - id: The stream's last event id.
    public init(type: String = "message", data: String, id: String? = nil) {
        self.type = type
        self.data = data
        self.id = id
    }
}
