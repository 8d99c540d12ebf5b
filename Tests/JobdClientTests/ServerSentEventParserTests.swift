import JobdClient
import Testing

@Suite("ServerSentEventParser")
struct ServerSentEventParserTests {
    private static let stream = """
        : keep-alive\r
        id: 17\r
        event: started\r
        data: {"id":17,"job_id":5}\r
        \r
        id: 18
        event: succeeded
        data: {"id":18,
        data:  "job_id":5}

        :ping

        """
    private static let expected = [
        ServerSentEvent(type: "started", data: #"{"id":17,"job_id":5}"#, id: "17"),
        ServerSentEvent(type: "succeeded", data: "{\"id\":18,\n \"job_id\":5}", id: "18"),
    ]

    /// Feeds `bytes` in chunks of `size` and collects the events.
    private func parse(_ bytes: [UInt8], chunk size: Int) throws -> [ServerSentEvent] {
        var parser = ServerSentEventParser()
        var events: [ServerSentEvent] = []
        var start = 0
        while start < bytes.count {
            let end = min(start + size, bytes.count)
            events += try parser.parse(bytes[start..<end])
            start = end
        }
        return events
    }

    @Test("events come out whole, whatever the chunk size", arguments: [1, 2, 3, 5, 7, 16, 64, 10_000])
    func chunked(size: Int) throws {
        #expect(try parse(Array(Self.stream.utf8), chunk: size) == Self.expected)
    }

    @Test("every split point into two chunks gives the same events, also inside \\r\\n")
    func everySplit() throws {
        let bytes = Array(Self.stream.utf8)
        for split in 0...bytes.count {
            var parser = ServerSentEventParser()
            let events = try parser.parse(bytes[..<split]) + parser.parse(bytes[split...])
            #expect(events == Self.expected, "split at \(split)")
        }
    }

    @Test("a lone \\r ends a line, and a \\r\\n split across chunks is one line ending")
    func carriageReturns() throws {
        var parser = ServerSentEventParser()
        #expect(try parser.parse(Array("data: a\r\r".utf8)) == [ServerSentEvent(data: "a")])
        #expect(try parser.parse(Array("data: b\r".utf8)).isEmpty)
        // The \n completes the \r above; the \r\n after it is the blank line.
        #expect(try parser.parse(Array("\n\r\n".utf8)) == [ServerSentEvent(data: "b")])
    }

    @Test("the id persists across events; an event without data is not dispatched")
    func idsAndEmptyEvents() throws {
        var parser = ServerSentEventParser()
        let text = "id: 1\nevent: ping\n\ndata: x\n\nid\ndata\n\n"
        #expect(
            try parser.parse(Array(text.utf8)) == [
                ServerSentEvent(data: "x", id: "1"),
                ServerSentEvent(data: "", id: ""),
            ])
    }

    @Test("fields without a space after the colon, unknown fields and a leading BOM")
    func fields() throws {
        var parser = ServerSentEventParser()
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("event:a\nretry: 10\nfoo: bar\ndata:1\n\n".utf8)
        #expect(try parser.parse(bytes) == [ServerSentEvent(type: "a", data: "1")])
    }

    @Test("an event the stream leaves unfinished is never dispatched")
    func unfinished() throws {
        var parser = ServerSentEventParser()
        #expect(try parser.parse(Array("data: 1\n\ndata: 2\n".utf8)) == [ServerSentEvent(data: "1")])
    }

    @Test("an event over the size limit throws")
    func tooLarge() {
        var parser = ServerSentEventParser(maxEventBytes: 16)
        #expect(throws: ServerSentEventParser.TooLargeError(limit: 16)) {
            try parser.parse(Array("data: 0123456789abcdef\n\n".utf8))
        }
    }
}
