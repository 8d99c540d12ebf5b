/// An incremental parser of `text/event-stream` bytes into `ServerSentEvent`s.
///
/// Feed it the body's chunks as they arrive, in order; it keeps whatever an event or a
/// line left unfinished at the end of a chunk, so events may be split anywhere, even
/// between the `\r` and the `\n` of a line ending. Lines end with `\n`, `\r\n` or `\r`.
/// Lines starting with `:` are comments (keep-alives) and are skipped; an event is
/// dispatched at the blank line that ends it, and only if it has `data:`. A `retry:`
/// field is ignored. A leading UTF-8 byte order mark is dropped.
///
/// As the specification requires, an event that the stream leaves unfinished (no blank
/// line before the end) is never dispatched.
public struct ServerSentEventParser: Sendable {
    /// A line or an event longer than the parser's limit.
    public struct TooLargeError: Error, Hashable, Sendable, CustomStringConvertible {
        /// The limit in bytes.
        public var limit: Int

        /// Makes the error.
        ///
        /// - Parameter limit: The limit that was passed.
        public init(limit: Int) { self.limit = limit }

        /// A one-line explanation naming the limit.
        public var description: String { "an event-stream event is larger than \(limit) bytes" }
    }

    /// The default limit of one event's size in bytes (8 MiB).
    public static let defaultMaxEventBytes = 8 * 1024 * 1024

    /// The most bytes one event (its lines together) may hold.
    public let maxEventBytes: Int

    private var line: [UInt8] = []
    /// True right after a `\r`: a `\n` that follows belongs to the same line ending,
    /// possibly in the next chunk.
    private var afterCarriageReturn = false
    private var isFirstLine = true
    private var eventType = ""
    private var data = ""
    private var hasData = false
    private var eventBytes = 0
    private var lastEventID: String?

    /// Makes a parser at the start of a stream.
    ///
    /// - Parameter maxEventBytes: The most bytes one event may hold, its field lines
    ///   together; more makes `parse(_:)` throw.
    public init(maxEventBytes: Int = Self.defaultMaxEventBytes) {
        self.maxEventBytes = maxEventBytes
    }

    /// Parses the next chunk of the stream.
    ///
    /// - Parameter bytes: The chunk, in stream order after the previous ones.
    /// - Returns: The events completed by this chunk, in order; often none.
    /// - Throws: `TooLargeError` when an event grows past `maxEventBytes`.
    public mutating func parse(_ bytes: some Sequence<UInt8>) throws(TooLargeError) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\n"):
                if afterCarriageReturn {
                    afterCarriageReturn = false
                } else {
                    endLine(into: &events)
                }
            case UInt8(ascii: "\r"):
                endLine(into: &events)
                afterCarriageReturn = true
            default:
                afterCarriageReturn = false
                line.append(byte)
                if eventBytes + line.count > maxEventBytes {
                    throw TooLargeError(limit: maxEventBytes)
                }
            }
        }
        return events
    }

    private mutating func endLine(into events: inout [ServerSentEvent]) {
        defer { line.removeAll(keepingCapacity: true) }
        if isFirstLine {
            isFirstLine = false
            if line.starts(with: [0xEF, 0xBB, 0xBF]) {
                line.removeFirst(3)
            }
        }
        guard !line.isEmpty else {
            dispatch(into: &events)
            return
        }
        eventBytes += line.count
        if line[0] == UInt8(ascii: ":") {
            return
        }
        let name: String
        var value: ArraySlice<UInt8>
        if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            name = String(decoding: line[..<colon], as: UTF8.self)
            value = line[(colon + 1)...]
            if value.first == UInt8(ascii: " ") {
                value = value.dropFirst()
            }
        } else {
            name = String(decoding: line, as: UTF8.self)
            value = []
        }
        switch name {
        case "event":
            eventType = String(decoding: value, as: UTF8.self)
        case "data":
            if hasData {
                data += "\n"
            }
            data += String(decoding: value, as: UTF8.self)
            hasData = true
        case "id":
            if !value.contains(0) {
                lastEventID = String(decoding: value, as: UTF8.self)
            }
        default:
            break
        }
    }

    private mutating func dispatch(into events: inout [ServerSentEvent]) {
        if hasData {
            events.append(ServerSentEvent(type: eventType.isEmpty ? "message" : eventType, data: data, id: lastEventID))
        }
        eventType = ""
        data = ""
        hasData = false
        eventBytes = 0
    }
}
