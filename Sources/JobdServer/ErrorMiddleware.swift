import Hummingbird
import JobdModel
import JobdStore
import Logging
import NIOCore

/// Turns every error a route throws into an `APIError` answer, in one place.
///
/// `APIError` passes through. Hummingbird's own errors keep their meaning (404 for an
/// unknown route, 413 for a body over the limit). A `StoreError` with `disk_full`
/// becomes 507 `disk_full`. Anything else is logged in full and answered as `internal`
/// with no details, so nothing about the server leaks to clients.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPError {
            switch error.status.code {
            case 404:
                throw APIError(.routeNotFound, "no route for \(request.method) \(request.uri.path)")
            case 405:
                throw APIError(.routeNotFound, "\(request.method) is not allowed on \(request.uri.path)")
            case 413:
                throw APIError(.payloadTooLarge, "the request body is over the size limit")
            default:
                if (400..<500).contains(error.status.code) {
                    throw APIError(.invalidQuery, error.body ?? "bad request")
                }
                context.logger.error("request failed", metadata: ["error": "\(error)"])
                throw APIError(.internal, "internal error; see the jobd log")
            }
        } catch is NIOTooManyBytesError {
            throw APIError(.payloadTooLarge, "the request body is over the size limit")
        } catch let error as StoreError where error.code == .diskFull {
            context.logger.error("disk full", metadata: ["error": "\(error)"])
            throw APIError(.diskFull, "the database disk is full; nothing was stored")
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)"])
            throw APIError(.internal, "internal error; see the jobd log")
        }
    }
}
