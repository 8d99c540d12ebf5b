import Foundation
import Testing

/// Starts `count` nodes on `url`, named `node-N`.
func startNodes(_ count: Int, url: String, lease: Int = 15, first: Int = 0) async throws -> [TestDaemon] {
    var nodes: [TestDaemon] = []
    for index in first..<(first + count) {
        let node = try TestDaemon()
        do {
            try await node.start(
                ["--database-url", url, "--node-name", "node-\(index)"], environment: ["JOBD_NODE_LEASE": "\(lease)"])
        } catch {
            node.cleanUp()
            for started in nodes { started.cleanUp() }
            throw error
        }
        nodes.append(node)
    }
    return nodes
}

/// Polls `condition` every 50 ms until it holds; fails after `deadline`.
func waitUntil(
    _ what: String, deadline: Duration = .seconds(20), _ condition: () async throws -> Bool
) async throws {
    let end = ContinuousClock.now + deadline
    while ContinuousClock.now < end {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("timed out waiting until \(what)")
    throw CancellationError()
}
