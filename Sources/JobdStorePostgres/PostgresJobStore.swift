import Foundation
import JobdModel
import JobdStore
import Logging
import PostgresNIO
import Synchronization

/// The jobs database on PostgreSQL: one queue shared by many jobd nodes.
///
/// Every node opens its own store on the same database. Claims take rows with `FOR UPDATE
/// SKIP LOCKED`, so nodes never wait on each other's claims; every attempt records the
/// node *incarnation* (a `nodes` row) that runs it, and a finish is written only while
/// the job still runs that attempt and that incarnation's lease is alive. The leader (one
/// node at a time, `LeaderLease`) rescues the attempts of nodes whose lease ran out.
/// Changes reach the other nodes by `pg_notify` inside the writing transaction
/// (`ChangeMessage`), heard on one dedicated connection (`ChangeListener`).
///
/// All I/O is PostgresNIO's, on its event loops: callers suspend, nothing blocks.
public final class PostgresJobStore: JobStore {
    /// The notification channel of the change feed.
    static let channel = "jobd_changes"

    let client: PostgresClient
    let settings: ClusterSettings
    let logger: Logger
    /// This process's mark on its notifications, so it skips its own.
    let origin = UUID().uuidString
    /// The node's membership: its incarnation, lease and leadership.
    let membership: NodeMembership
    private let subscribers = Mutex<[@Sendable (StoreChange) -> Void]>([])
    private let counters = Mutex(StoreStatistics(commits: 0, operations: 0))
    /// The specs of jobs this node stored lately, so its claims of them skip the decode.
    let recentSpecs = RecentSpecs()
    /// Which submitter this node's next fair-share claim serves first.
    let fairShareRotation = FairShareRotation()
    /// Set by the writer-hang test hook: every later write waits for ever.
    let hung = Mutex(false)
    /// The client's run loop, and the background loops; cancelled by `close`.
    private let tasks = Mutex<[Task<Void, Never>]>([])

    init(client: PostgresClient, settings: ClusterSettings, logger: Logger) {
        self.client = client
        self.settings = settings
        self.logger = logger
        self.membership = NodeMembership(name: settings.nodeName, lease: settings.lease)
    }

    /// Connects, migrates, takes the node's name and registers its lease, then starts the
    /// background loops (renewals and leadership, the change listener).
    ///
    /// - Throws: `StoreError` `unavailable` naming the server and the reason, `busy` when a
    ///   live node already has this name, `schema_too_new`.
    ///
    /// With `fairShare` `perUID` it builds the fair-share index when missing; it never drops
    /// it (other nodes may use it): `DROP INDEX jobs_fair` once no node runs with fair share
    /// (docs/postgres.md).
    public static func open(
        _ settings: ClusterSettings, durability: StoreDurability = .full, fairShare: FairShare = .off,
        logger: Logger
    ) async throws -> PostgresJobStore {
        let client = PostgresClientFactory.makeClient(settings, durability: durability, logger: logger)
        let store = PostgresJobStore(client: client, settings: settings, logger: logger)
        store.track(Task { await client.run() })
        do {
            _ = try await store.withDeadline(.seconds(10), "cannot connect to PostgreSQL at \(settings.url.server)") {
                try await client.query("SELECT 1", logger: logger)
            }
            try await PostgresMigrations.migrate(client, logger: logger)
            if fairShare == .perUID {
                try await PostgresMigrations.buildFairShareIndex(client, logger: logger)
            }
            store.track(try await ChangeListener(store: store).start())
            try await store.register()
            store.track(Task { await store.membership.run(store: store) })
        } catch {
            store.stopTasks()
            throw StoreError(postgres: error, context: "cannot connect to PostgreSQL at \(settings.url.server)")
        }
        return store
    }

    /// The database's address, password masked.
    public var location: String { settings.url.description }

    public var statistics: StoreStatistics { counters.withLock { $0 } }

    /// 4,096: a claim here holds no other write back (each runs on a connection of its
    /// own), and every round costs a commit flush and six round trips. W2 on three nodes
    /// took 1.81 s with rounds of 512 and 1.54 s with 4,096, against asyncio.gather's
    /// 1.31 s (docs/benchmarks.md).
    public var claimChunk: Int { 4096 }

    public func subscribe(_ handler: @escaping @Sendable (StoreChange) -> Void) {
        subscribers.withLock { $0.append(handler) }
    }

    /// Stops the background loops, gives up the node's lease (its row is deleted when no
    /// attempt of it is left running) and closes the pool.
    public func close() async {
        membership.stop()
        stopTasks(keepingClient: true)
        let node = membership.nodeID
        if let node {
            _ = try? await withDeadline(.seconds(2), "cannot leave the cluster") {
                try await self.client.query(
                    """
                    WITH gone AS (
                        DELETE FROM nodes WHERE id = \(node)
                            AND NOT EXISTS (SELECT 1 FROM jobs WHERE node_id = \(node) AND state = 'running')
                        RETURNING id)
                    DELETE FROM leader WHERE node_id = \(node)
                    """, logger: self.logger)
            }
        }
        stopTasks()
    }

    /// Forgets this node without a goodbye, as a crash would, and expires its lease: a
    /// test hook for rescue (the next store's `rescue` takes its attempts).
    public func crashForTesting() async throws {
        membership.stop()
        stopTasks(keepingClient: true)
        if let node = membership.nodeID {
            try await client.query(
                "UPDATE nodes SET lease_until = now() - interval '1 second' WHERE id = \(node)", logger: logger)
        }
        stopTasks()
    }

    func track(_ task: Task<Void, Never>) {
        tasks.withLock { $0.append(task) }
    }

    private func stopTasks(keepingClient: Bool = false) {
        let running = tasks.withLock { tasks in
            // The client's run loop is the first task: it goes last.
            if keepingClient, !tasks.isEmpty {
                let rest = Array(tasks.dropFirst())
                tasks = [tasks[0]]
                return rest
            }
            defer { tasks = [] }
            return tasks
        }
        for task in running { task.cancel() }
    }

    /// Hands committed changes to every subscriber, in commit order.
    func announce(_ changes: [StoreChange]) {
        guard !changes.isEmpty else { return }
        let handlers = subscribers.withLock { $0 }
        for change in changes {
            for handler in handlers { handler(change) }
        }
    }

    /// Runs `body` in a transaction, then announces what it returns as changes (to this
    /// node's subscribers at once; to the others by the `pg_notify` the transaction sent).
    ///
    /// `started` changes go to the other nodes only: this node's runtime publishes its own
    /// starts as it admits them.
    ///
    /// - Parameters:
    ///   - context: What is being done, for errors.
    ///   - operations: How many API operations the transaction holds (statistics).
    ///   - announcesLocally: False when the changes are for the other nodes only.
    ///   - wrote: Whether the transaction, given what it returned, wrote anything: one that
    ///     did not is no write transaction (PostgreSQL gives it no transaction id) and is
    ///     not counted in `statistics`.
    func transaction<T: Sendable>(
        _ context: String, operations: Int = 1, announcesLocally: Bool = true,
        wrote: @escaping @Sendable (T) -> Bool = { _ in true },
        _ body: @escaping @Sendable (PostgresConnection) async throws -> (T, [StoreChange])
    ) async throws -> T {
        if hung.withLock({ $0 }) {
            while true { try await Task.sleep(for: .seconds(3600)) }
        }
        let (value, changes) = try await withDeadline(.seconds(10), context) {
            try await self.client.withTransaction(logger: self.logger) { connection in
                let (value, changes) = try await body(connection)
                try await self.notify(changes, on: connection)
                return (value, changes)
            }
        }
        if wrote(value) {
            counters.withLock {
                $0.commits += 1
                $0.operations += operations
            }
        }
        if announcesLocally {
            announce(changes.filter { if case .started = $0 { false } else { true } })
        }
        return value
    }

    /// Sends the changes to the other nodes, in as few notifications as fit PostgreSQL's
    /// 8,000-byte payload limit; delivered at commit, in order.
    private func notify(_ changes: [StoreChange], on connection: PostgresConnection) async throws {
        guard !changes.isEmpty else { return }
        for payload in ChangeMessage.payloads(changes, origin: origin) {
            try await connection.query("SELECT pg_notify(\(Self.channel), \(payload))", logger: logger)
        }
    }

    /// A read on a pooled connection.
    func read<T: Sendable>(_ context: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T)
        async throws -> T
    {
        try await withDeadline(.seconds(10), context) {
            try await self.client.withConnection { connection in try await body(connection) }
        }
    }

    /// Runs `body`, failing it `unavailable` when it takes longer than `limit`: while the
    /// server is unreachable, the pool would hold a request for up to a minute.
    ///
    /// The body runs in a task of its own that is cancelled, not awaited, when the deadline
    /// passes: a query on a connection that died silently may not notice its cancellation
    /// until TCP gives up, and the caller must not wait for that.
    func withDeadline<T: Sendable>(
        _ limit: Duration, _ context: String, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let server = settings.url.server
        let race = DeadlineRace<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                race.start(continuation)
                let work = Task {
                    do {
                        race.finish(.success(try await body()))
                    } catch {
                        race.finish(.failure(StoreError(postgres: error, context: context)))
                    }
                }
                let timer = Task {
                    try? await Task.sleep(for: limit)
                    if race.finish(
                        .failure(
                            StoreError(.unavailable, "\(context): no answer from PostgreSQL at \(server) in \(limit)")))
                    {
                        work.cancel()
                    }
                }
                race.onFinish { timer.cancel() }
                race.onCancel { work.cancel() }
            }
        } onCancel: {
            race.cancel()
        }
    }

    /// Makes every later write hang (`JOBD_TEST_HANG_WRITER`).
    public func hangWriterForTesting() {
        hung.withLock { $0 = true }
    }

    /// Proves that a write transaction still commits.
    public func probe() async throws {
        try await transaction("cannot probe the database") { connection in
            try await connection.query("SELECT 1", logger: self.logger)
            return ((), [])
        }
    }
}
