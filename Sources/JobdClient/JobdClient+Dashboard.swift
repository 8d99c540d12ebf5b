import AsyncHTTPClient
import Foundation
import JobdModel
import NIOCore
import NIOHTTP1

extension JobdClient {
    /// Opens a dashboard session and runs `body` while it is open.
    ///
    /// `POST /v1/dashboard/sessions` answers one JSON line with the token and then holds
    /// the response open: the token is valid exactly while this call runs. When `body`
    /// returns (or throws, or is cancelled) the connection closes and jobd revokes the
    /// token and its cookie at once. When jobd ends the session first (it stops), `body`
    /// is cancelled and the call throws.
    ///
    /// - Parameter body: The work to do with the session (serve the dashboard).
    /// - Returns: What `body` returns.
    /// - Throws: `APIError` (`forbidden`, `route_not_found` from a jobd without a
    ///   dashboard), `ClientError` (`daemon_unreachable`, also when jobd ended the session,
    ///   `bad_response`), or what `body` throws.
    public func withDashboardSession<Result: Sendable>(
        _ body: @escaping @Sendable (DashboardSessionResponse) async throws -> Result
    ) async throws -> Result {
        let route = APIRoutes.dashboardSessions
        let response: HTTPClientResponse
        do {
            response = try await start(.POST, route, accept: "application/x-ndjson", deadline: requestTimeout)
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
        let socketPath = self.socketPath
        let timeout = requestTimeout
        let (sessions, opened) = AsyncThrowingStream.makeStream(of: DashboardSessionResponse.self)
        return try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask {
                var line = Data()
                var isOpen = false
                do {
                    for try await chunk in response.body {
                        guard !isOpen else { continue }
                        line.append(contentsOf: chunk.readableBytesView)
                        guard let end = line.firstIndex(of: UInt8(ascii: "\n")) else { continue }
                        let session = try JSONCoding.makeDecoder().decode(
                            DashboardSessionResponse.self, from: line[..<end])
                        opened.yield(session)
                        isOpen = true
                    }
                } catch is DecodingError {
                    let error = ClientError(.badResponse, "jobd at \(socketPath) answered \(route) with no token")
                    opened.finish(throwing: error)
                    throw error
                } catch {
                    let wrapped = ClientError.wrapping(error, socketPath: socketPath, deadline: timeout)
                    opened.finish(throwing: wrapped)
                    throw wrapped
                }
                let ended = ClientError(
                    .daemonUnreachable, "jobd at \(socketPath) ended the dashboard session (it stopped)")
                opened.finish(throwing: ended)
                throw ended
            }
            group.addTask {
                for try await session in sessions {
                    return try await body(session)
                }
                return nil
            }
            while let outcome = try await group.next() {
                if let outcome {
                    group.cancelAll()
                    return outcome
                }
            }
            throw ClientError(.badResponse, "jobd at \(socketPath) answered \(route) with no token")
        }
    }
}
