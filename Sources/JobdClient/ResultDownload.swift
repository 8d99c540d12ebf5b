import AsyncHTTPClient
import Foundation
import JobdModel
import NIOCore
import NIOHTTP1

/// A job's result body as `GET /v1/jobs/{id}/result` answers it: what it is, known from
/// the answer's head, and its bytes, read as they arrive.
///
/// Read the body once, with `write(_:)` or `collect(upTo:)`, before the client that made
/// it is shut down.
public struct ResultDownload {
    /// The job's id.
    public let id: JobID
    /// The job's kind: a fetch's body is the response's bytes, a delay's its value as JSON.
    public let kind: JobKind
    /// `succeeded`, or `failed` for an `http_status` failure, whose response is the result.
    public let state: JobState
    /// The body's media type.
    public let contentType: String
    /// The body's size in bytes, when the daemon sent it.
    public let contentLength: Int?
    /// A failed job's error (code and message, printable ASCII); nil when it succeeded.
    public let error: JobError?

    let body: HTTPClientResponse.Body
    let socketPath: String
    let deadline: Duration

    /// Passes each chunk of the body to `sink` as it arrives, holding no more than one.
    ///
    /// - Parameter sink: Takes one chunk; it may throw to stop the download.
    /// - Returns: How many bytes there were.
    /// - Throws: What `sink` throws, or `ClientError` when the connection fails or the
    ///   body ends short of its `Content-Length` (`bad_response`).
    @discardableResult
    public func write(_ sink: (UnsafeRawBufferPointer) throws -> Void) async throws -> Int {
        var total = 0
        do {
            for try await buffer in body {
                total += buffer.readableBytes
                try buffer.withUnsafeReadableBytes { try sink($0) }
            }
        } catch let error as ClientError {
            throw error
        } catch {
            throw ClientError.wrapping(error, socketPath: socketPath, deadline: deadline)
        }
        if let contentLength, contentLength != total {
            throw ClientError(
                .badResponse, "jobd at \(socketPath) sent \(total) bytes of job \(id)'s result, not \(contentLength)")
        }
        return total
    }

    /// The whole body.
    ///
    /// - Parameter limit: The most bytes to read.
    /// - Returns: The body.
    /// - Throws: `ClientError` (`bad_response` when the body is longer than `limit`).
    public func collect(upTo limit: Int) async throws -> Data {
        var data = Data()
        try await write { chunk in
            guard data.count + chunk.count <= limit else {
                throw ClientError(
                    .badResponse, "jobd at \(socketPath) sent a result larger than the client's limit of \(limit) bytes"
                )
            }
            data.append(contentsOf: chunk)
        }
        return data
    }
}

extension JobdClient {
    /// Starts downloading a job's result body (`GET /v1/jobs/{id}/result`).
    ///
    /// Returns once the answer's head has arrived; the body is read with the returned
    /// value, chunk by chunk, so a result of any size costs the client one chunk of memory.
    ///
    /// - Parameter id: The job's id.
    /// - Returns: The download: what the body is, and the body to read.
    /// - Throws: `APIError` with `job_not_found`, `not_finished` (the job is waiting, queued
    ///   or running) or `no_result` (cancelled, or failed without a response); or
    ///   `ClientError`.
    public func result(_ id: JobID) async throws -> ResultDownload {
        let deadline = requestTimeout
        let response: HTTPClientResponse
        do {
            response = try await start(.GET, APIRoutes.result(id), accept: "*/*", deadline: deadline)
        } catch {
            throw ClientError.wrapping(error, socketPath: socketPath, deadline: deadline)
        }
        guard (200..<300).contains(response.status.code) else {
            let data: Data
            do {
                data = Data(try await response.body.collect(upTo: 1024 * 1024).readableBytesView)
            } catch {
                throw ClientError.wrapping(error, socketPath: socketPath, deadline: deadline)
            }
            throw Self.error(status: response.status, headers: response.headers, body: data)
        }
        let headers = response.headers
        guard let kind = headers.first(name: ResultHeaders.kind).flatMap(JobKind.init(rawValue:)),
            let state = headers.first(name: ResultHeaders.state).flatMap(JobState.init(rawValue:))
        else {
            throw ClientError(
                .badResponse, "jobd at \(socketPath) answered job \(id)'s result without its kind and state")
        }
        let error = headers.first(name: ResultHeaders.errorCode).map {
            JobError(.init(rawValue: $0), headers.first(name: ResultHeaders.errorMessage) ?? "")
        }
        return ResultDownload(
            id: id, kind: kind, state: state,
            contentType: headers.first(name: "Content-Type") ?? "application/octet-stream",
            contentLength: headers.first(name: "Content-Length").flatMap { Int($0) }, error: error,
            body: response.body, socketPath: socketPath, deadline: deadline)
    }
}
