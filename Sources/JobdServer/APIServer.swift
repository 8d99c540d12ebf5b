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
    ///   - metrics: The registry `/metrics` renders; nil serves no `/metrics`.
    ///   - dashboard: The dashboard sessions (shared with the loopback listener, if any).
    ///   - history: The per-minute history `GET /v1/stats/history` reads.
    public static func makeRouter(
        store: any JobStore,
        dispatcher: Dispatcher,
        events: EventBroadcaster,
        options: ServerOptions,
        startedAt: ContinuousClock.Instant = .now,
        peers: PeerSource = .socket,
        daemonUID: UInt32 = geteuid(),
        metrics: PrometheusCollectorRegistry? = nil,
        dashboard: DashboardSessions = DashboardSessions(),
        history: StatsHistory = StatsHistory()
    ) -> Router<JobdRequestContext> {
        let router = Router(context: JobdRequestContext.self)
        let routes = RouteTable()
        router.add(middleware: ErrorMiddleware(routes: routes))
        let policy = AccessPolicy(options: options, daemonUID: daemonUID, directory: UserDirectory())
        router.add(middleware: AccessMiddleware(peers: peers, policy: policy, gate: DashboardGate(sessions: dashboard)))
        JobsController(store: store, dispatcher: dispatcher, events: events, options: options).add(to: router)
        BatchesController(store: store, dispatcher: dispatcher, events: events, options: options).add(to: router)
        SchedulesController(store: store, options: options).add(to: router)
        SystemController(store: store, dispatcher: dispatcher, startedAt: startedAt, history: history).add(to: router)
        DashboardController(sessions: dashboard).add(to: router)
        EventsController(events: events).add(to: router)
        DispatchController(dispatcher: dispatcher, options: options).add(to: router)
        MaintenanceController(store: store).add(to: router)
        if let metrics {
            MetricsController(registry: metrics, store: store, dispatcher: dispatcher).add(to: router)
        }
        routes.load(router)
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

    /// The dashboard's loopback TCP listener (`dashboard.listen`) serving `router`.
    ///
    /// Requests there have no peer: every one is a dashboard request, let in only with a
    /// token or cookie of an open dashboard session, and acting as that session's uid.
    ///
    /// - Parameters:
    ///   - router: The router the socket serves too (so the sessions are shared).
    ///   - host: A loopback address (`127.0.0.1`, `::1`).
    ///   - port: The port; 0 picks a free one.
    ///   - options: The server limits.
    ///   - logger: The daemon's logger.
    public static func makeDashboardListener(
        router: Router<JobdRequestContext>, host: String, port: Int, options: ServerOptions, logger: Logger
    ) -> some Service {
        var server = SocketServer(
            router: router, path: options.socketPath, options: options, logger: logger,
            onServerRunning: { channel in
                logger.info(
                    "dashboard listening",
                    metadata: ["dashboard.listen": "\(host):\(channel.localAddress?.port ?? port)"])
            })
        server.listen = (host, port)
        return server
    }
}
