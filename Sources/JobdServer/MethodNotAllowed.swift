import HTTPTypes
import Hummingbird
import JobdModel

/// A known path asked with a method it does not take: 405 `method_not_allowed` with the
/// `Allow` header listing the methods it does take.
struct MethodNotAllowed: HTTPResponseError {
    /// The methods the path takes.
    var allowed: [HTTPRequest.Method]
    /// The error body.
    var error: APIError

    init(request: Request, allowed: [HTTPRequest.Method]) {
        self.allowed = allowed
        let list = allowed.map(\.rawValue).joined(separator: ", ")
        error = APIError(
            .methodNotAllowed, "\(request.method) is not allowed on \(request.uri.path); it takes \(list)")
    }

    var status: HTTPResponse.Status { .methodNotAllowed }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try error.response(from: request, context: context)
        response.headers[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
        return response
    }
}
