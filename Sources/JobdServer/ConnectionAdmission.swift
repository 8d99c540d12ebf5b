import Logging
import Synchronization

/// Counts open connections, in total and per peer uid, and decides who may open one more.
///
/// Root and the daemon's own uid (the operator) are exempt from the per-uid cap and may
/// open `reserve` connections past the global cap, so a flood by one user locks out
/// neither the other users (per-uid cap) nor the operator (reserve).
final class ConnectionAdmission: Sendable {
    struct Limits: Sendable {
        var maxConnections: Int
        var maxPerUID: Int?
        var reserve: Int
        var privilegedUIDs: Set<UInt32>
    }

    private struct State {
        var open = 0
        var perUID: [UInt32: Int] = [:]
        var refusedSinceLog = 0
        var lastLog: ContinuousClock.Instant?
    }

    let limits: Limits
    private let logger: Logger
    private let state = Mutex(State())

    init(limits: Limits, logger: Logger) {
        self.limits = limits
        self.logger = logger
    }

    /// Connections open now.
    var open: Int { state.withLock { $0.open } }

    /// Counts a new connection from `uid` (nil: credentials unreadable) and returns nil,
    /// or returns why it is refused (then nothing is counted).
    func admit(uid: UInt32?) -> String? {
        let privileged = uid.map { limits.privilegedUIDs.contains($0) } ?? false
        let refusal: String? = state.withLock { state in
            if privileged {
                guard state.open < limits.maxConnections + limits.reserve else {
                    return "jobd has \(state.open) connections open, its limit with the operator's reserve"
                }
            } else {
                guard state.open < limits.maxConnections else {
                    return "jobd has \(state.open) connections open (server.max_connections); try again later"
                }
                if let uid, let maxPerUID = limits.maxPerUID, state.perUID[uid, default: 0] >= maxPerUID {
                    return "uid \(uid) has \(maxPerUID) connections open (server.max_connections_per_uid)"
                }
            }
            state.open += 1
            if let uid { state.perUID[uid, default: 0] += 1 }
            return nil
        }
        if let refusal { logRefusal(refusal, uid: uid) }
        return refusal
    }

    /// Forgets a connection that `admit(uid:)` counted.
    func release(uid: UInt32?) {
        state.withLock { state in
            state.open -= 1
            if let uid {
                let left = state.perUID[uid, default: 1] - 1
                state.perUID[uid] = left > 0 ? left : nil
            }
        }
    }

    /// A warning at most every 10 s, with the number refused since the last one: a flood
    /// must not flood the journal too.
    private func logRefusal(_ reason: String, uid: UInt32?) {
        let now = ContinuousClock.now
        let count: Int? = state.withLock { state in
            state.refusedSinceLog += 1
            if let last = state.lastLog, now - last < .seconds(10) { return nil }
            defer {
                state.refusedSinceLog = 0
                state.lastLog = now
            }
            return state.refusedSinceLog
        }
        guard let count else { return }
        logger.warning(
            "connections refused: too many open",
            metadata: [
                "reason": "\(reason)", "peer.uid": "\(uid.map(String.init) ?? "unknown")",
                "refused": "\(count)", "connections.open": "\(open)",
            ])
    }
}
