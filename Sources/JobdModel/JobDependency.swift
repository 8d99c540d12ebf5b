import Foundation

/// One entry of a spec's `after`: a job that must end before this one starts.
///
/// On the wire a number is a job id (`17`), and a string `"@N"` is the job at position N
/// of the same request's `jobs` array, counted from 0, so a whole DAG goes in one request.
/// The store keeps the resolved ids; `GET /v1/jobs/{id}` shows ids only.
public enum JobDependency: Codable, Hashable, Sendable, CustomStringConvertible {
    /// A job that exists already.
    case job(JobID)
    /// The job at this position of the same batch.
    case position(Int)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let id = try? container.decode(Int64.self) {
            guard id > 0 else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "a job id is 1 or more")
            }
            self = .job(JobID(id))
            return
        }
        guard let text = try? container.decode(String.self), text.hasPrefix("@"),
            let position = Int(text.dropFirst()), position >= 0, String(position) == text.dropFirst()
        else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "an entry of after is a job id or \"@N\", the position of a job in the batch")
        }
        self = .position(position)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .job(let id): try container.encode(id)
        case .position(let position): try container.encode("@\(position)")
        }
    }

    public var description: String {
        switch self {
        case .job(let id): "\(id)"
        case .position(let position): "@\(position)"
        }
    }
}

/// What a job does when a job it waits for fails or is cancelled.
public enum DependencyFailurePolicy: String, Codable, Sendable, CaseIterable {
    /// It is cancelled with `dependency_failed` (the default), and so are the jobs that
    /// wait for it.
    case cancel
    /// It runs anyway once every job it waits for has ended.
    case run
}

extension JobSpec {
    /// The most entries one `after` may hold.
    public static let maxDependencies = 10_000

    /// Checks the `after` fields of one request's jobs: positions only in a batch, in
    /// range, not the job itself, no cycle among them.
    ///
    /// Ids of existing jobs are checked by the store (they must exist and be the
    /// submitter's own).
    ///
    /// - Parameters:
    ///   - specs: The request's jobs, in order.
    ///   - inBatch: True for a `jobs` array (fields are `jobs[i].after[k]`); false for one
    ///     job (`after[k]`), which has no positions to name.
    /// - Throws: `APIError` `invalid_spec` naming the entry.
    public static func validateDependencies(_ specs: [JobSpec], inBatch: Bool) throws(APIError) {
        func field(_ index: Int, _ entry: Int) -> String {
            (inBatch ? "jobs[\(index)]." : "") + "after[\(entry)]"
        }
        var edges: [[(to: Int, entry: Int)]] = Array(repeating: [], count: specs.count)
        for (index, spec) in specs.enumerated() {
            guard let after = spec.after else { continue }
            guard after.count <= maxDependencies else {
                throw APIError(
                    .invalidSpec, "after may name at most \(maxDependencies) jobs", field: field(index, maxDependencies)
                )
            }
            for (entry, dependency) in after.enumerated() {
                guard case .position(let position) = dependency else { continue }
                guard inBatch else {
                    throw APIError(
                        .invalidSpec, "\"@\(position)\" names a job of the same batch; a single job has none",
                        field: field(index, entry))
                }
                guard position < specs.count else {
                    throw APIError(
                        .invalidSpec, "\"@\(position)\" is past the batch's last job (@\(specs.count - 1))",
                        field: field(index, entry))
                }
                guard position != index else {
                    throw APIError(.invalidSpec, "a job cannot wait for itself", field: field(index, entry))
                }
                edges[index].append((position, entry))
            }
        }
        // A cycle among positions (depth-first search; ids of existing jobs cannot close
        // one: they are older than every job of this request).
        var mark = Array(repeating: 0, count: specs.count)  // 0 new, 1 on the path, 2 done
        for start in specs.indices where mark[start] == 0 {
            var stack: [(node: Int, next: Int)] = [(start, 0)]
            mark[start] = 1
            while let top = stack.last {
                if top.next == edges[top.node].count {
                    mark[top.node] = 2
                    stack.removeLast()
                    continue
                }
                let edge = edges[top.node][top.next]
                stack[stack.count - 1].next += 1
                if mark[edge.to] == 1 {
                    throw APIError(
                        .invalidSpec, "after makes a cycle: job @\(top.node) waits for @\(edge.to), which waits for it",
                        field: field(top.node, edge.entry))
                }
                if mark[edge.to] == 0 {
                    mark[edge.to] = 1
                    stack.append((edge.to, 0))
                }
            }
        }
    }

    /// This spec with its `after` positions replaced by the ids of the jobs at those
    /// positions (`ids` in request order).
    public func resolvingPositions(_ ids: [JobID]) -> JobSpec {
        guard let after, after.contains(where: { if case .position = $0 { true } else { false } }) else { return self }
        var spec = self
        spec.after = after.map { dependency in
            if case .position(let position) = dependency, ids.indices.contains(position) {
                return .job(ids[position])
            }
            return dependency
        }
        return spec
    }

    /// The ids this spec waits for, without repeats, once its positions are resolved.
    public var parentIDs: [JobID] {
        var seen = Set<JobID>()
        return (after ?? []).compactMap { dependency in
            if case .job(let id) = dependency, seen.insert(id).inserted { return id }
            return nil
        }
    }
}
