import HTTPTypes
import Hummingbird
import Synchronization

/// Every route the API serves, path and method, so that a known path asked with a method
/// it does not take answers 405 with `Allow` instead of 404 (RFC 9110, 15.5.6).
///
/// Loaded from the router once its routes are added (the error middleware that reads it
/// is added first), read on each request that found no route.
final class RouteTable: Sendable {
    private let routes = Mutex<[(path: RouterPath, method: HTTPRequest.Method)]>([])

    /// Records the router's routes.
    func load<Context>(_ router: Router<Context>) {
        let all = router.routes.map { (path: $0.path, method: $0.method) }
        routes.withLock { $0 = all }
    }

    /// The methods the routes matching `path` take, in a fixed order (empty for an unknown
    /// path).
    ///
    /// - Parameter path: The request's path, without its query.
    func allowedMethods(for path: String) -> [HTTPRequest.Method] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        let methods = routes.withLock { routes in
            routes.filter { route in
                route.path.components.count == segments.count
                    && zip(route.path.components, segments).allSatisfy { element, segment in element ~= segment }
            }.map(\.method)
        }
        let order: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options]
        return order.filter(methods.contains)
    }
}
