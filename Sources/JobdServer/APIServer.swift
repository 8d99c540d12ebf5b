import Foundation
import Hummingbird
import JobdModel
import JobdRuntime
import JobdStore
import Logging
import NIOCore

/// Builds the v1 API: the router and the Hummingbird application on the Unix socket.
public enum APIServer {
    /// The router with every v1 route and the error middleware.
    ///
    /// Tests drive it in memory with HummingbirdTesting's `.router` mode.
    public static func makeRouter(
        store: JobStore,
        dispatcher: Dispatcher,
        events: EventBroadcaster,
        options: ServerOptions,
        startedAt: ContinuousClock.Instant = .now
    ) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        JobsController(store: store, dispatcher: dispatcher, events: events, options: options).add(to: router)
        SystemController(store: store, dispatcher: dispatcher, startedAt: startedAt).add(to: router)
        EventsController(events: events).add(to: router)
        DispatchController(dispatcher: dispatcher, options: options).add(to: router)
        return router
    }

    /// The application serving `router` on `options.socketPath`.
    ///
    /// Once the socket is bound, its mode is set to `options.socketMode` and `onReady`
    /// runs (the daemon sends READY=1 there).
    ///
    /// - Important: Run `SocketFile.prepare(path:)` first: binding fails if a file exists
    ///   at the path.
    public static func makeApplication(
        router: Router<BasicRequestContext>,
        options: ServerOptions,
        logger: Logger,
        onReady: @escaping @Sendable () async -> Void = {}
    ) -> some ApplicationProtocol {
        let mode = options.socketMode
        let path = options.socketPath
        return Application(
            router: router,
            configuration: ApplicationConfiguration(address: .unixDomainSocket(path: path), serverName: "jobd"),
            onServerRunning: { _ in
                if chmod(path, mode_t(mode)) != 0 {
                    logger.warning(
                        "cannot set the socket mode", metadata: ["socket.path": "\(path)", "errno": "\(errno)"])
                }
                await onReady()
            },
            logger: logger)
    }
}
