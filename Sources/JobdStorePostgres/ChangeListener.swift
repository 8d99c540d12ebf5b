import JobdStore
import Logging
import PostgresNIO
import Synchronization

/// Hears the other nodes' changes: one pooled connection, held for as long as the node
/// runs, that `LISTEN`s on `jobd_changes` and holds the node name's advisory lock.
///
/// The lock is a session lock: a node that dies loses it with its connection, so a node
/// restarted under the same name takes it at once, while a second *live* node with that
/// name is refused. When the connection breaks, the listener connects again with backoff
/// (100 ms doubling to 5 s) and then reports `StoreChange.resynchronized`: the runtime
/// looks at the queue once and re-reads its waiters' jobs, because what was committed
/// meanwhile was not heard. It never polls while the connection is healthy.
final class ChangeListener: Sendable {
    /// The advisory lock namespace of node names ("jobd" in ASCII).
    static let lockNamespace: Int32 = 0x6A6F_6264

    let store: PostgresJobStore
    private let ready = Mutex<CheckedContinuation<Void, any Error>?>(nil)

    init(store: PostgresJobStore) {
        self.store = store
    }

    /// Starts listening and returns once the first `LISTEN` is in place.
    ///
    /// - Throws: `StoreError` `busy` when a live node has this name; the connection's error.
    func start() async throws -> Task<Void, Never> {
        var task: Task<Void, Never>?
        try await withCheckedThrowingContinuation { continuation in
            ready.withLock { $0 = continuation }
            task = Task { await self.run() }
        }
        return task!
    }

    private func signalReady(_ result: Result<Void, any Error>) -> Bool {
        guard
            let continuation = ready.withLock({ state -> CheckedContinuation<Void, any Error>? in
                defer { state = nil }
                return state
            })
        else { return false }
        continuation.resume(with: result)
        return true
    }

    private func run() async {
        let logger = store.logger
        var backoff = Duration.milliseconds(100)
        var lostLogged = false
        while !Task.isCancelled {
            do {
                try await store.client.withConnection { connection in
                    try await self.listen(on: connection) {
                        backoff = .milliseconds(100)
                        if !self.signalReady(.success(())) {
                            logger.notice("change notifications from PostgreSQL restored")
                            lostLogged = false
                            self.store.announce([.resynchronized])
                        }
                    }
                }
            } catch {
                if signalReady(.failure(error)) { return }
                if let error = error as? StoreError, error.code == .busy {
                    logger.error("\(error.message)")
                }
                if !lostLogged && !Task.isCancelled {
                    lostLogged = true
                    logger.error(
                        "lost the change notifications from PostgreSQL; connecting again",
                        metadata: ["error": "\(StoreError(postgres: error, context: "listening").message)"])
                }
            }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(5))
        }
    }

    /// Takes the name's lock, listens, and hands each notification to the store until the
    /// connection ends; gives the lock back if it ends with the connection still open.
    private func listen(on connection: PostgresConnection, listening: () -> Void) async throws {
        let logger = store.logger
        let name = store.settings.nodeName
        var locked = false
        for try await value in try await connection.query(
            "SELECT pg_try_advisory_lock(\(Self.lockNamespace), hashtext(\(name)))", logger: logger
        ).decode(Bool.self) {
            locked = value
        }
        guard locked else {
            throw StoreError(
                .busy,
                "a live jobd node named \(name.debugDescription) is using this database; give this one another node.name"
            )
        }
        do {
            try await connection.listen(on: PostgresJobStore.channel) { notifications in
                listening()
                for try await notification in notifications {
                    if let changes = ChangeMessage.changes(of: notification.payload, skipping: store.origin) {
                        store.announce(changes)
                    }
                }
            }
            throw StoreError(.unavailable, "the notification connection ended")
        } catch {
            // PostgresNIO 1.33.2 drops a query written to a connection that closed under
            // it (its promise is never failed), so the unlock is sent only while the
            // connection is open, and never waited for long: a lost connection gives the
            // lock back by itself.
            if !connection.isClosed {
                _ = try? await store.withDeadline(.seconds(2), "cannot give back the node name's lock") {
                    try await connection.query(
                        "SELECT pg_advisory_unlock(\(Self.lockNamespace), hashtext(\(name)))", logger: logger)
                }
            }
            throw error
        }
    }
}
