import Foundation
import HTTPTypes
import Hummingbird
import JobdModel
import JobdStore
import NIOCore

extension JobsController {
    /// The size of one chunk of a result body on the wire (64 KiB).
    static let resultChunkBytes = 64 * 1024

    /// `GET /v1/jobs/{id}/result`: the result body alone, with its own content type,
    /// written in chunks of `resultChunkBytes`.
    ///
    /// A fetch answers its response body (the bytes, decoded when stored as base64) with
    /// the response's `Content-Type`; a delay answers its value as JSON. Whose body it is
    /// travels in `ResultHeaders`. A succeeded job answers its result, and so does a job
    /// that failed with `http_status` (its response was kept; `Jobd-Job-State: failed`).
    /// Access is `GET /v1/jobs/{id}`'s: another user's job is 404 `job_not_found`.
    ///
    /// - Throws: `job_not_found` (404); `not_finished` (409) for a job still waiting,
    ///   queued or running; `no_result` (409) for a cancelled job or one that failed
    ///   without a response, its message naming the job's error.
    @Sendable func result(_ request: Request, context: Context) async throws -> Response {
        let caller = try context.requireCaller()
        let id = try jobID(context)
        // The store keeps a result as one JSON value, so it is read whole once; what is
        // saved is the second copy a JSON answer would be, and the client's buffer.
        guard let record = try await store.job(id), caller.canSee(record) else { throw Self.notFound(id) }
        let result = try Self.servedResult(of: record)
        var headers = HTTPFields()
        headers[Self.header(ResultHeaders.kind)] = record.kind.rawValue
        headers[Self.header(ResultHeaders.state)] = record.state.rawValue
        if record.state != .succeeded, let error = record.error {
            headers[Self.header(ResultHeaders.errorCode)] = ResultHeaders.headerValue(error.code.rawValue)
            headers[Self.header(ResultHeaders.errorMessage)] = ResultHeaders.headerValue(error.message)
        }
        switch result {
        case .delay(let delay):
            let text = JSONText.value(delay.value)
            headers[.contentType] = ResultSummary.delayContentType
            headers[.contentLength] = String(text.utf8.count)
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        case .fetch(let fetch):
            headers[.contentType] = ResultSummary.contentType(headers: fetch.headers)
            let chunks = ResultChunks(fetch, chunkBytes: Self.resultChunkBytes)
            if let length = chunks.byteCount { headers[.contentLength] = String(length) }
            return Response(
                status: .ok, headers: headers,
                body: ResponseBody(contentLength: chunks.byteCount) { writer in
                    for chunk in chunks {
                        try await writer.write(chunk)
                    }
                    try await writer.finish(nil)
                })
        }
    }

    /// The result `GET /v1/jobs/{id}/result` answers for `record`.
    ///
    /// - Throws: `not_finished` or `no_result` (see `result(_:context:)`).
    static func servedResult(of record: JobRecord) throws -> JobResult {
        switch record.state {
        case .waiting, .queued, .running:
            throw APIError(.notFinished, "job \(record.id) is \(record.state.rawValue): it has no result yet")
        case .succeeded:
            if let result = record.result { return result }
            throw APIError(.noResult, "job \(record.id) succeeded without a result")
        case .failed:
            // Only an http_status failure's result is this job's answer; another failure
            // may carry a stale result of an earlier attempt.
            if record.error?.code == .httpStatus, let result = record.result { return result }
            let error = record.error.map { ": \($0.message) [\($0.code)]" } ?? ""
            throw APIError(.noResult, "job \(record.id) failed without a result\(error)")
        case .cancelled:
            let error = record.error.map { ": \($0.message) [\($0.code)]" } ?? ""
            throw APIError(.noResult, "job \(record.id) was cancelled\(error)")
        }
    }

    private static func header(_ name: String) -> HTTPField.Name {
        guard let field = HTTPField.Name(name) else { fatalError("\(name) is a valid header name: a fixed token") }
        return field
    }
}
