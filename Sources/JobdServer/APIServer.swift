import Foundation
import Hummingbird
import JobdModel
import JobdRuntime
import JobdStore
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// Builds the v1 API: the router and the Hummingbird application on the Unix socket.
public enum APIServer {
    /// The router with every v1 route, the error middleware and the access policy.
    ///
    /// Every request's peer comes from `peers` and is checked against `options`' access
    /// settings before routing (see `AccessMiddleware`). Tests drive the router in memory
    /// with HummingbirdTesting's `.router` mode, which has no socket: they pass
    /// `.custom` peers.
    ///
    /// - Parameters:
    ///   - store: The open store.
    ///   - dispatcher: The dispatcher.
    ///   - events: The broadcaster the dispatcher publishes to.
    ///   - options: Limits and access settings.
    ///   - startedAt: When the daemon started (for the uptime).
    ///   - peers: Where peer credentials come from: the socket, unless testing.
    ///   - daemonUID: The daemon's own uid, always allowed and an admin like root.
    public static func makeRouter(
        store: any JobStore,
        dispatcher: Dispatcher,
        events: EventBroadcaster,
        options: ServerOptions,
        startedAt: ContinuousClock.Instant = .now,
        peers: PeerSource = .socket,
        daemonUID: UInt32 = geteuid(),
        metrics: PrometheusCollectorRegistry? = nil
    ) -> Router<JobdRequestContext> {
        let router = Router(context: JobdRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        let policy = AccessPolicy(options: options, daemonUID: daemonUID, directory: UserDirectory())
        router.add(middleware: AccessMiddleware(peers: peers, policy: policy))
        JobsController(store: store, dispatcher: dispatcher, events: events, options: options).add(to: router)
        BatchesController(store: store, dispatcher: dispatcher, events: events, options: options).add(to: router)
        SchedulesController(store: store, options: options).add(to: router)
        SystemController(store: store, dispatcher: dispatcher, startedAt: startedAt).add(to: router)
        EventsController(events: events).add(to: router)
        DispatchController(dispatcher: dispatcher, options: options).add(to: router)
        if let metrics {
            MetricsController(registry: metrics, store: store, dispatcher: dispatcher).add(to: router)
        }
        return router
    }

    /// The application serving `router` on `options.socketPath`.
    ///
    /// Once the socket is bound, it is given `options.socketGroup` (when set) and mode
    /// `options.socketMode`, then `onReady` runs (the daemon sends READY=1 there). A group
    /// or mode that cannot be set is logged as a warning and the daemon serves anyway:
    /// the socket then keeps the daemon's group, which is the safer side.
    ///
    /// With an `.inherited` listener (socket activation) jobd binds nothing and sets
    /// neither group nor mode: the socket is systemd's, and `onReady` runs once jobd serves
    /// on it.
    ///
    /// - Important: With `.bind`, run `SocketFile.prepare(path:)` first: binding fails if a
    ///   file exists at the path.
    public static func makeApplication(
        router: Router<JobdRequestContext>,
        options: ServerOptions,
        listener: SocketListener = .bind,
        logger: Logger,
        onReady: @escaping @Sendable () async -> Void = {}
    ) -> some Service {
        let mode = options.socketMode
        let path = options.socketPath
        let group = options.socketGroup
        let isInherited: Bool
        if case .inherited = listener { isInherited = true } else { isInherited = false }
        return SocketServer(
            router: router, path: path, listener: listener, options: options, logger: logger,
            onServerRunning: { _ in
                if isInherited {
                    await onReady()
                    return
                }
                if let group {
                    do {
                        try await SocketFile.setGroup(path: path, group: group)
                    } catch {
                        logger.warning(
                            "cannot give the socket its group; it keeps the daemon's group",
                            metadata: [
                                "socket.path": "\(path)", "socket.group": "\(group)", "error": "\(error)",
                            ])
                    }
                }
                if chmod(path, mode_t(mode)) != 0 {
                    logger.warning(
                        "cannot set the socket mode", metadata: ["socket.path": "\(path)", "errno": "\(errno)"])
                }
                await onReady()
            })
    }
}
