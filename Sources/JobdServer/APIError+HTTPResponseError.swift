import Foundation
import HTTPTypes
import Hummingbird
import JobdModel
import NIOCore

extension APIError: HTTPResponseError {
    /// The HTTP status this error answers with (see `APIError.httpStatus`).
    public var status: HTTPResponse.Status { HTTPResponse.Status(code: httpStatus) }

    /// The `{"error":{...}}` body with this error's status.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try JSONBody.response(APIErrorResponse(error: self), status: status)
        switch code {
        case .shuttingDown: response.headers[.retryAfter] = "5"
        // The backlog drains at the workers' pace; a second is a fair first guess.
        case .queueFull: response.headers[.retryAfter] = "1"
        // A lock held by another process is usually short; the busy timeout already waited.
        case .databaseBusy: response.headers[.retryAfter] = "1"
        // Needs an operator (permissions, a remount, space): no point in asking every second.
        case .databaseUnavailable: response.headers[.retryAfter] = "5"
        default: break
        }
        return response
    }
}

/// JSON responses encoded the jobd way (RFC 3339 dates, snake_case keys, sorted).
enum JSONBody {
    /// A response with `value` as its JSON body.
    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        response(bytes: try JSONCoding.makeEncoder().encode(value), status: status)
    }

    /// A job record's response: the same bytes, written by `JSONText` where it can (every
    /// submit, status read and wait answers one; the encoder was most of their CPU).
    static func response(_ record: JobRecord, status: HTTPResponse.Status = .ok) throws -> Response {
        if let text = JSONText.encode(record) { return response(bytes: text.utf8, status: status) }
        return response(bytes: try JSONCoding.makeEncoder().encode(record), status: status)
    }

    private static func response(bytes: some Sequence<UInt8>, status: HTTPResponse.Status) -> Response {
        let buffer = ByteBuffer(bytes: bytes)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.contentLength] = String(buffer.readableBytes)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: buffer))
    }
}
