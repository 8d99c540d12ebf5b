import AsyncHTTPClient
import Foundation
import JobdModel
import NIOCore
import NIOHTTP1

extension JobdClient {
    /// Subscribes to `GET /v1/events`: every job state change, live, as it happens.
    ///
    /// The call returns once jobd has answered the subscription, so an event that
    /// happens after the return is in the sequence: read a job's state after
    /// subscribing and no change is lost. The sequence then yields each event as it
    /// arrives, in the daemon's order (`id` increases by one per event, so a gap means
    /// events were dropped). It ends when jobd ends the stream (it stops), and right
    /// after a `lagged` event: jobd dropped this subscriber because it read too slowly;
    /// subscribe again and re-read what matters. Keep-alive comments are skipped, and so
    /// are events of a type this client does not know (a newer jobd's).
    ///
    /// The subscription's connection stays open while the sequence is iterated;
    /// cancelling the iterating task closes it.
    ///
    /// - Important: Iterate the sequence once, from one task. jobd writes nothing while
    ///   nothing happens, so the client's `HTTPClient` must have no read timeout
    ///   (`httpClientConfiguration` and `withClient(socketPath:_:)` have none;
    ///   `HTTPClient.shared` has 90 s, after which an idle stream fails with `timeout`).
    ///
    /// - Returns: The events.
    /// - Throws: From the call: `APIError` (`forbidden`, `route_not_found` from a jobd
    ///   without events), `ClientError` (`daemon_unreachable`, `timeout` for no answer
    ///   within `requestTimeout`, `bad_response` when the answer is not an event stream).
    ///   From the sequence: `ClientError` with `daemon_unreachable` when the connection
    ///   breaks, `timeout` (see above) and `bad_response` for an event that does not
    ///   decode, or `CancellationError`.
    public func events() async throws -> some AsyncSequence<JobEvent, any Error> {
        let response: HTTPClientResponse
        do {
            response = try await start(.GET, APIRoutes.events, accept: "text/event-stream", deadline: requestTimeout)
        } catch {
            throw ClientError.wrapping(error, socketPath: socketPath, deadline: requestTimeout)
        }
        guard (200..<300).contains(response.status.code) else {
            let data: Data
            do {
                data = Data(try await response.body.collect(upTo: Self.maxResponseBytes).readableBytesView)
            } catch {
                throw ClientError.wrapping(error, socketPath: socketPath, deadline: requestTimeout)
            }
            throw Self.error(status: response.status, headers: response.headers, body: data)
        }
        let contentType = response.headers.first(name: "Content-Type") ?? ""
        guard contentType.lowercased().hasPrefix("text/event-stream") else {
            throw ClientError(
                .badResponse,
                "jobd at \(socketPath) answered \(APIRoutes.events) with \(contentType.isEmpty ? "no content type" : contentType), not an event stream"
            )
        }
        return JobEventSequence(body: response.body, socketPath: socketPath)
    }
}
