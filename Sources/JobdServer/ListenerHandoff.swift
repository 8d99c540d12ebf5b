import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// Hands a socket-activated listener over to the next jobd: on SIGTERM it stops accepting
/// at once and lets the requests already accepted finish, before the dispatcher drains.
///
/// Under socket activation the listening socket belongs to systemd, which keeps it open
/// across `systemctl restart jobd`: connections that arrive while jobd stops and starts
/// wait in the socket's backlog and are served by the next process. So the old process
/// must stop taking connections as soon as it is told to stop (else it would answer them
/// 503 `shutting_down` while draining), and must answer every connection it already took.
///
/// It tracks the server's connections from the moment they are accepted: a connection
/// counts as busy until its first request begins, and a request other than GET or HEAD
/// (a submit, a cancel) until its response is written. Long requests (`/wait`,
/// `/v1/events`) are GETs and do not hold the hand-off up; they end with the server.
///
/// As a `Service`, put it last in the `ServiceGroup` (it is told to stop first). On
/// graceful shutdown it stops accepting (the listener's reads are dropped; the descriptor
/// closes with the server, and systemd's stays open with the socket file) and waits until
/// no connection is busy, at most `timeout`.
public final class ListenerHandoff: Service, Sendable {
    private struct State {
        var listener: (any Channel)?
        /// Set on SIGTERM: the listener's read gate drops reads, so nothing more is accepted.
        var isStopped = false
        /// Open connections; true while one still awaits its first request.
        var connections: [ObjectIdentifier: (channel: any Channel, awaitingRequest: Bool)] = [:]
        var writesInFlight = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0

        var isBusy: Bool { writesInFlight > 0 || connections.values.contains { $0.awaitingRequest } }
    }

    private let state = Mutex(State())
    private let timeout: Duration
    private let logger: Logger

    /// Makes a hand-off that waits at most `timeout` for busy connections.
    public init(timeout: Duration = .seconds(5), logger: Logger) {
        self.timeout = timeout
        self.logger = logger
    }

    /// Waits for graceful shutdown, then stops accepting and waits for the accepted
    /// requests (see the type's comment).
    public func run() async throws {
        try await gracefulShutdown()
        let start = ContinuousClock.now
        let listener = state.withLock { $0.listener }
        let stop: @Sendable () -> Void = { self.state.withLock { $0.isStopped = true } }
        // Not a close: children NIO accepted but had not yet handed to the accept loop would
        // be dropped with the listener. Reads stop instead: autoRead off takes the listener
        // out of epoll's readable set at once, and `AcceptGate` drops any later read. Both
        // happen in one task on the listener's event loop, after the read cycle under way
        // (which has registered every connection it accepted: the set is complete) and
        // before any other: once `isAccepting` is false, no connection is accepted. (Setting
        // the flag first, from this task, left a window in which a connection that came
        // after it was still accepted, and then closed unanswered by the quiesce, instead of
        // waiting in the backlog for the next jobd; a CI run of InheritedSocketTests saw it.)
        if let listener {
            _ = try? await listener.eventLoop.flatSubmit {
                stop()
                return listener.setOption(ChannelOptions.autoRead, value: false)
            }.get()
        } else {
            stop()
        }
        let (connections, busy) = state.withLock { state in
            (state.connections.count, state.connections.values.filter(\.awaitingRequest).count + state.writesInFlight)
        }
        logger.notice(
            "stopped accepting on systemd's socket; new connections wait in its backlog for the next jobd",
            metadata: ["connections": "\(connections)", "busy": "\(busy)"])
        if await waitUntilIdle(timeout: timeout) {
            logger.info(
                "accepted requests answered", metadata: ["elapsed_ms": "\((ContinuousClock.now - start).milliseconds)"])
        } else {
            logger.warning(
                "accepted requests still busy after the hand-off timeout; draining anyway",
                metadata: ["timeout": "\(timeout)"])
        }
    }

    /// True until the hand-off stops accepting.
    var isAccepting: Bool { state.withLock { !$0.isStopped } }

    /// The connections open now.
    var connectionCount: Int { state.withLock { $0.connections.count } }

    /// Records the listening channel (the server calls it once it serves).
    func listening(on channel: any Channel) {
        state.withLock { $0.listener = channel }
    }

    /// Records a connection just accepted, on the listener's event loop.
    func accepted(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        state.withLock { $0.connections[id] = (channel, true) }
        channel.closeFuture.whenComplete { _ in
            self.update { $0.connections[id] = nil }
        }
    }

    /// Records that a request began on `channel`; `isWrite` for any method but GET and HEAD.
    func requestBegan(on channel: any Channel, isWrite: Bool) {
        update { state in
            state.connections[ObjectIdentifier(channel)]?.awaitingRequest = false
            if isWrite { state.writesInFlight += 1 }
        }
    }

    /// Records that a request's response was written (or failed).
    func requestEnded(isWrite: Bool) {
        guard isWrite else { return }
        update { $0.writesInFlight -= 1 }
    }

    /// Tells every connection to close once its current response is written (HTTP/1.1
    /// quiescing), and closes the listener if it is still open. The server calls it at
    /// its own graceful shutdown.
    func quiesce() {
        let (listener, channels) = state.withLock { ($0.listener, $0.connections.values.map(\.channel)) }
        listener?.close(promise: nil)
        for channel in channels {
            channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
    }

    /// True when no connection is busy; waits for that at most `timeout`.
    func waitUntilIdle(timeout: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await self.idle()
                return true
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    /// Returns when no connection is busy, or when cancelled.
    private func idle() async {
        let id = state.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state in
                    if !state.isBusy || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// Changes the state and wakes the waiters when nothing is busy any more.
    private func update(_ change: (inout State) -> Void) {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            change(&state)
            guard !state.isBusy else { return [] }
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in woken { waiter.resume() }
    }
}

extension Duration {
    fileprivate var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
