import Foundation
import JobdModel
import JobdStore

/// The change feed on the wire between nodes: the payload of a `pg_notify` on
/// `jobd_changes`, JSON of at most `maxPayload` bytes (PostgreSQL's limit is 8,000).
///
/// What crosses is what events and waiters need, never a result body: ids, attempt
/// numbers, outcomes, error codes, and error messages cut to 300 characters. Inserted ids
/// travel as ranges, so a 10,000-job batch is a few bytes.
struct ChangeMessage: Codable, Sendable {
    /// The sending process (`PostgresJobStore.origin`): a node skips its own messages.
    var o: String
    var c: [Entry]

    /// One change.
    struct Entry: Codable, Sendable {
        /// i inserted, b started, f finished, c cancelled, q requeued, r rescued, x cancel
        /// requested, p pause switch, s schedules changed, k batch completed (sent by the database's trigger,
        /// origin `db`: migration version 4), d dependency transitions (sent by the engine,
        /// or by the database's commit-time trigger, origin `db`: migration version 5).
        var t: String
        /// Submitter uid.
        var u: UInt32?
        /// Inserted id ranges, first and last inclusive (for d, the jobs' ids).
        var r: [[Int64]]?
        /// Job id (for k, the `on_complete` job the batch's end queued; for d, the parent
        /// that failed).
        var j: Int64?
        /// Attempt number.
        var a: Int?
        /// Attempt outcome (for k, the batch's end state; for d, the transition: waiting,
        /// released or failed).
        var s: String?
        /// Error code, message, HTTP status.
        var ec: String?
        var em: String?
        var eh: Int?
        /// Retry time, unix seconds.
        var ra: Double?
        /// The pause switch.
        var p: Bool?
        /// Batch id.
        var b: Int64?
        /// For d failed, the parent's state (failed or cancelled).
        var ps: String?
    }

    static let maxPayload = 7_900

    /// The payloads for `changes`: as few as fit.
    static func payloads(_ changes: [StoreChange], origin: String) -> [String] {
        // Each entry is encoded once; a payload is the envelope around entries joined by
        // commas, so its size is known without encoding it again.
        let entries = changes.flatMap(entries(of:)).map(\.json)
        let head = head(origin: origin)
        let tail = "]}"
        var payloads: [String] = []
        var batch: [String] = []
        var size = head.utf8.count + tail.utf8.count
        for entry in entries {
            let added = entry.utf8.count + (batch.isEmpty ? 0 : 1)
            if !batch.isEmpty, size + added > maxPayload {
                payloads.append(head + batch.joined(separator: ",") + tail)
                batch = []
                size = head.utf8.count + tail.utf8.count
            }
            size += entry.utf8.count + (batch.isEmpty ? 0 : 1)
            batch.append(entry)
        }
        if !batch.isEmpty { payloads.append(head + batch.joined(separator: ",") + tail) }
        return payloads
    }

    private static func entries(of change: StoreChange) -> [Entry] {
        switch change {
        case .inserted(let ids, let owner):
            var ranges: [[Int64]] = []
            for id in ids.map(\.rawValue) {
                if let last = ranges.last, last[1] + 1 == id {
                    ranges[ranges.count - 1][1] = id
                } else {
                    ranges.append([id, id])
                }
            }
            // A range list too long for one payload is cut into several entries.
            return stride(from: 0, to: ranges.count, by: 200).map {
                Entry(t: "i", u: owner, r: Array(ranges[$0..<min($0 + 200, ranges.count)]))
            }
        case .finished(let finish):
            return [entry("f", finish)]
        case .rescued(let attempts):
            return attempts.map { entry("r", $0) }
        case .cancelled(let id, let owner):
            return [Entry(t: "c", u: owner, j: id.rawValue)]
        case .requeued(let id, let owner):
            return [Entry(t: "q", u: owner, j: id.rawValue)]
        case .cancelRequested(let id):
            return [Entry(t: "x", j: id.rawValue)]
        case .started(let attempts):
            return attempts.map { Entry(t: "b", u: $0.submitterUID, j: $0.jobID.rawValue, a: $0.attemptNumber) }
        case .pauseChanged(let paused):
            return [Entry(t: "p", p: paused)]
        case .batchCompleted(let completion):
            // The engine never sends this one: the trigger that ends a batch announces it
            // (`PostgresMigrations.batches`). Written the same way, for tests and symmetry.
            return [
                Entry(
                    t: "k", u: completion.submitterUID, j: completion.onCompleteID?.rawValue,
                    s: completion.state.rawValue, b: completion.batchID.rawValue)
            ]
        case .dependencies(let transitions):
            return dependencyEntries(transitions)
        case .schedulesChanged:
            return [Entry(t: "s")]
        case .leaseLost, .resynchronized, .leadershipChanged:
            return []
        }
    }

    /// One `d` entry per run of transitions of the same kind, parent and submitter, their
    /// ids as ranges: the 2,000 children of one parent, released together, are one short
    /// entry. An entry holds at most 100 ranges (each at most 43 bytes), so it fits a
    /// payload with room to spare.
    private static func dependencyEntries(_ transitions: [DependencyTransition]) -> [Entry] {
        var entries: [Entry] = []
        for transition in transitions {
            let id = transition.jobID.rawValue
            var entry = Entry(t: "d", u: transition.submitterUID, r: [[id, id]])
            switch transition.kind {
            case .waiting: entry.s = "waiting"
            case .released: entry.s = "released"
            case .failed(let parent, let parentState):
                entry.s = "failed"
                entry.j = parent.rawValue
                entry.ps = parentState.rawValue
            }
            if let last = entries.last, last.s == entry.s, last.j == entry.j, last.ps == entry.ps, last.u == entry.u,
                var ranges = last.r, ranges.count < 100 || ranges.last?[1] == id - 1
            {
                if let range = ranges.last, range[1] == id - 1 {
                    ranges[ranges.count - 1][1] = id
                } else {
                    ranges.append([id, id])
                }
                entries[entries.count - 1].r = ranges
            } else {
                entries.append(entry)
            }
        }
        return entries
    }

    private static func entry(_ type: String, _ finish: FinishedAttempt) -> Entry {
        Entry(
            t: type, u: finish.submitterUID, j: finish.jobID.rawValue, a: finish.attemptNumber,
            s: finish.outcome.rawValue, ec: finish.error?.code.rawValue,
            em: finish.error.map { String($0.message.prefix(300)) },
            eh: finish.error?.httpStatus, ra: finish.retryAt?.timeIntervalSince1970)
    }

    /// The changes of a payload sent by another process; nil for this process's own, or
    /// for a payload that does not decode.
    static func changes(of payload: String, skipping origin: String) -> [StoreChange]? {
        // This node's own: known by its first bytes, not decoded.
        if payload.hasPrefix(head(origin: origin)) { return nil }
        guard let message = parse(payload),
            message.o != origin
        else { return nil }
        var changes: [StoreChange] = []
        var rescued: [FinishedAttempt] = []
        var started: [StartedAttempt] = []
        var transitions: [DependencyTransition] = []
        for entry in message.c {
            if entry.t != "r", !rescued.isEmpty {
                changes.append(.rescued(rescued))
                rescued = []
            }
            if entry.t != "b", !started.isEmpty {
                changes.append(.started(started))
                started = []
            }
            if entry.t != "d", !transitions.isEmpty {
                changes.append(.dependencies(transitions))
                transitions = []
            }
            switch entry.t {
            case "i":
                let ids = (entry.r ?? []).flatMap { range in
                    range.count == 2 && range[0] <= range[1] ? Array(range[0]...range[1]) : []
                }
                changes.append(.inserted(ids.map { JobID($0) }, submitterUID: entry.u))
            case "f":
                if let finish = finished(entry) { changes.append(.finished(finish)) }
            case "r":
                if let finish = finished(entry) { rescued.append(finish) }
            case "c":
                if let id = entry.j { changes.append(.cancelled(JobID(id), submitterUID: entry.u)) }
            case "q":
                if let id = entry.j { changes.append(.requeued(JobID(id), submitterUID: entry.u)) }
            case "x":
                if let id = entry.j { changes.append(.cancelRequested(JobID(id))) }
            case "p":
                if let paused = entry.p { changes.append(.pauseChanged(paused)) }
            case "b":
                if let id = entry.j, let number = entry.a {
                    started.append(StartedAttempt(jobID: JobID(id), attemptNumber: number, submitterUID: entry.u))
                }
            case "k":
                if let batch = entry.b, let state = entry.s.flatMap(BatchState.init(rawValue:)) {
                    changes.append(
                        .batchCompleted(
                            BatchCompletion(
                                batchID: BatchID(batch), state: state, onCompleteID: entry.j.map { JobID($0) },
                                submitterUID: entry.u)))
                }
            case "d":
                transitions += dependencyTransitions(entry)
            case "s":
                changes.append(.schedulesChanged)
            default:
                continue
            }
        }
        if !rescued.isEmpty { changes.append(.rescued(rescued)) }
        if !started.isEmpty { changes.append(.started(started)) }
        if !transitions.isEmpty { changes.append(.dependencies(transitions)) }
        return changes
    }

    /// The transitions of a `d` entry; none when it is not one this node knows.
    private static func dependencyTransitions(_ entry: Entry) -> [DependencyTransition] {
        let kind: DependencyTransition.Kind
        switch entry.s {
        case "waiting": kind = .waiting
        case "released": kind = .released
        case "failed":
            guard let parent = entry.j, let state = entry.ps.flatMap(JobState.init(rawValue:)) else { return [] }
            kind = .failed(parent: JobID(parent), parentState: state)
        default: return []
        }
        return (entry.r ?? []).flatMap { range in
            range.count == 2 && range[0] <= range[1]
                ? (range[0]...range[1]).map {
                    DependencyTransition(jobID: JobID($0), kind: kind, submitterUID: entry.u)
                }
                : []
        }
    }

    private static func finished(_ entry: Entry) -> FinishedAttempt? {
        guard let id = entry.j, let number = entry.a, let outcome = entry.s.flatMap(AttemptOutcome.init(rawValue:))
        else { return nil }
        return FinishedAttempt(
            jobID: JobID(id), attemptNumber: number, outcome: outcome,
            error: entry.ec.map { JobError(.init(rawValue: $0), entry.em ?? "", httpStatus: entry.eh) },
            retryAt: entry.ra.map(Date.init(timeIntervalSince1970:)), submitterUID: entry.u)
    }
}
