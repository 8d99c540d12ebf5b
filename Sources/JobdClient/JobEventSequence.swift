import AsyncHTTPClient
import Foundation
import JobdModel
import NIOCore

/// The events of one `/v1/events` response body, parsed and decoded as they arrive.
///
/// See `JobdClient.events()` for the contract.
struct JobEventSequence: AsyncSequence {
    typealias Element = JobEvent

    let body: HTTPClientResponse.Body
    let socketPath: String

    func makeAsyncIterator() -> Iterator {
        Iterator(bytes: body.makeAsyncIterator(), socketPath: socketPath)
    }

    struct Iterator: AsyncIteratorProtocol {
        var bytes: HTTPClientResponse.Body.AsyncIterator
        let socketPath: String
        var parser = ServerSentEventParser()
        let decoder = JSONCoding.makeDecoder()
        /// Decoded events not handed out yet, from `index` on.
        var pending: [JobEvent] = []
        var index = 0
        var isFinished = false

        init(bytes: HTTPClientResponse.Body.AsyncIterator, socketPath: String) {
            self.bytes = bytes
            self.socketPath = socketPath
        }

        mutating func next() async throws -> JobEvent? {
            while true {
                if index < pending.count {
                    let event = pending[index]
                    index += 1
                    if event.type == .lagged {
                        // jobd ends the stream after `lagged`; do not rely on it.
                        isFinished = true
                        pending.removeAll()
                        index = 0
                    }
                    return event
                }
                pending.removeAll(keepingCapacity: true)
                index = 0
                if isFinished { return nil }
                let chunk: ByteBuffer?
                do {
                    chunk = try await bytes.next()
                } catch let error as HTTPClientError where error == .readTimeout {
                    isFinished = true
                    throw ClientError(
                        .timeout,
                        "the event stream from jobd at \(socketPath) was idle longer than the HTTP client's read timeout"
                    )
                } catch {
                    isFinished = true
                    throw ClientError.wrapping(error, socketPath: socketPath, deadline: .zero)
                }
                guard let chunk else {
                    isFinished = true
                    return nil
                }
                let events: [ServerSentEvent]
                do {
                    events = try parser.parse(chunk.readableBytesView)
                } catch {
                    isFinished = true
                    throw ClientError(.badResponse, "jobd at \(socketPath) sent \(error)")
                }
                for event in events {
                    if let decoded = try decode(event) {
                        pending.append(decoded)
                    }
                }
            }
        }

        /// The job event in an SSE event; nil for an event type this client does not know.
        private mutating func decode(_ event: ServerSentEvent) throws -> JobEvent? {
            if event.type != "message", JobEventType(rawValue: event.type) == nil {
                return nil
            }
            do {
                return try decoder.decode(JobEvent.self, from: Data(event.data.utf8))
            } catch {
                isFinished = true
                throw ClientError(
                    .badResponse,
                    "jobd at \(socketPath) sent a \(event.type) event that could not be decoded: "
                        + JobdClient.describe(error))
            }
        }
    }
}
