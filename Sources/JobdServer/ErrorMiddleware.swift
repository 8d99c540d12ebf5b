import Hummingbird
import JobdModel
import JobdRuntime
import JobdStore
import Logging
import NIOCore

/// Turns every error a route throws into an `APIError` answer, in one place.
///
/// `APIError` passes through. Hummingbird's own errors keep their meaning (404 for an
/// unknown route, 413 for a body over the limit). A `StoreError` from a storage fault
/// keeps a code of its own (`storageError(_:)`): 507 `disk_full`, 503 `database_busy`,
/// 503 `database_unavailable`. Anything else is logged in full and answered as
/// `internal` with no details, so nothing about the server leaks to clients.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The API's routes, to tell a wrong method on a known path (405) from an unknown path.
    let routes: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as MethodNotAllowed {
            throw error
        } catch let error as HTTPError {
            switch error.status.code {
            case 404:
                let allowed = routes.allowedMethods(for: request.uri.path)
                guard allowed.isEmpty else { throw MethodNotAllowed(request: request, allowed: allowed) }
                throw APIError(.routeNotFound, "no route for \(request.method) \(request.uri.path)")
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
        } catch let error as DispatchError {
            throw Self.dispatchError(error)
        } catch let error as StoreError where error.code == .unknownDependency {
            // A request's mistake, not a storage fault: the job it names is not there (or
            // is another user's, which reads the same).
            throw APIError(.invalidSpec, "\(error.message); after names jobs that exist", field: error.field)
        } catch let error as StoreError where error.code == .unsupported {
            // The engine's refusal names what to use instead (pg_dump): no fault, no log.
            throw Self.storageError(error)
        } catch let error as StoreError {
            context.logger.error("request failed: storage fault", metadata: ["error": "\(error)"])
            throw Self.storageError(error)
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)"])
            throw APIError(.internal, "internal error; see the jobd log")
        }
    }

    /// The answer for a request the dispatcher refused.
    static func dispatchError(_ error: DispatchError) -> APIError {
        switch error.code {
        case .shuttingDown: APIError(.shuttingDown, error.message)
        case .queueFull: APIError(.queueFull, error.message)
        case .keyTaken: APIError(.invalidState, error.message, field: "key")
        case .notFound: APIError(.jobNotFound, error.message)
        case .invalidState: APIError(.invalidState, error.message)
        default: APIError(.internal, "internal error; see the jobd log")
        }
    }

    /// The answer for a store failure. Storage faults get a stable code and say what is
    /// wrong without internals (no SQL, no path); the daemon's log has the full error.
    /// Other store errors (bad data, an unexpected SQLite code) are `internal`.
    static func storageError(_ error: StoreError) -> APIError {
        switch error.code {
        case .diskFull:
            APIError(.diskFull, "the database disk is full; nothing was stored")
        case .busy:
            APIError(
                .databaseBusy,
                "the database is locked by another process; nothing was stored; try again")
        case .readOnly:
            APIError(
                .databaseUnavailable,
                "the database cannot be written (its file or file system is read-only); nothing was stored")
        case .ioError:
            APIError(
                .databaseUnavailable,
                "an I/O error on the database (see the jobd log); the request may not have been stored")
        case .unavailable:
            APIError(
                .databaseUnavailable,
                "the database cannot be reached (see the jobd log); nothing was stored unless the connection broke during the commit; try again"
            )
        case .corrupt:
            APIError(
                .databaseUnavailable,
                "the database file is damaged (see the jobd log); nothing was stored")
        case .unsupported:
            // The engine's own words: they name what to use instead and hold no internals.
            APIError(.notSupported, error.message)
        default:
            APIError(.internal, "internal error; see the jobd log")
        }
    }
}
