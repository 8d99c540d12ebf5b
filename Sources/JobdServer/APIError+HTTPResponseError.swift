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
        let data = try JSONCoding.makeEncoder().encode(value)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.contentLength] = String(data.count)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
