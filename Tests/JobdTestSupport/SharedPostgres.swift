import Foundation
import Synchronization

/// One cluster shared by a test process, started on first use; each `withPostgres` gets a
/// database of its own on it. The cluster is stopped and removed when the process exits.
enum SharedPostgres {
    static let cluster = Mutex<Task<PostgresCluster, any Error>?>(nil)
    static let counter = Atomic<Int>(0)

    static func get() async throws -> PostgresCluster {
        let task = cluster.withLock { task in
            if let task { return task }
            let started = Task { try await PostgresCluster.start() }
            task = started
            return started
        }
        let running = try await task.value
        registerCleanup(running)
        return running
    }

    private static let cleanupRegistered = Atomic<Bool>(false)
    nonisolated(unsafe) private static var directoryToRemove: String?
    nonisolated(unsafe) private static var stopCommand: [String] = []

    private static func registerCleanup(_ cluster: PostgresCluster) {
        guard cleanupRegistered.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else {
            return
        }
        directoryToRemove = cluster.directory
        let pgctl = cluster.bin + "/pg_ctl"
        let base = [pgctl, "-D", cluster.directory + "/data", "-m", "immediate", "-s", "stop"]
        stopCommand = cluster.runAs.map { ["/usr/sbin/runuser", "-u", $0, "--"] + base } ?? base
        atexit {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: SharedPostgres.stopCommand[0])
            process.arguments = Array(SharedPostgres.stopCommand.dropFirst())
            try? process.run()
            process.waitUntilExit()
            if let directory = SharedPostgres.directoryToRemove {
                try? FileManager.default.removeItem(atPath: directory)
            }
        }
    }
}

/// Runs `body` with the URL of a new, empty database on this process's private test
/// cluster (see `PostgresCluster`).
///
/// - Throws: `ClusterError` when PostgreSQL is missing or cannot start; `body`'s error.
public func withPostgres<T>(_ body: (String) async throws -> T) async throws -> T {
    let cluster = try await SharedPostgres.get()
    let name = "jobd_test_\(getpid())_\(SharedPostgres.counter.add(1, ordering: .relaxed).newValue)"
    try await cluster.createDatabase(name)
    return try await body(cluster.url(database: name))
}

/// The process's shared test cluster, for tests that inspect it with `psql`.
public func sharedPostgresCluster() async throws -> PostgresCluster {
    try await SharedPostgres.get()
}
