import JobdModel

/// The per-kind and per-host limits and what runs against them.
///
/// The global worker limit sizes each claim; these two decide which claimed jobs may start
/// (the extras go back to the queue untouched) and which kinds and hosts the next claim
/// skips. A value type kept inside the dispatcher's state, under its lock.
///
/// A fetch waiting for its host's rate limit counts against `hostLimit` from its claim but
/// against its kind's limit only once it starts, so waits for one host never hold back the
/// kind's other hosts.
struct AdmissionLimits: Sendable {
    /// The most running attempts per kind; kinds not listed are unlimited.
    let kindLimits: [JobKind: Int]
    /// The most running fetches per `host:port`; nil is unlimited.
    let hostLimit: Int?
    private(set) var runningByKind: [JobKind: Int] = [:]
    private(set) var runningByHost: [String: Int] = [:]

    init(kindLimits: [JobKind: Int], hostLimit: Int?) {
        self.kindLimits = kindLimits
        self.hostLimit = hostLimit
    }

    /// True when a job of `kind` (for `host`) may start now.
    func admits(kind: JobKind, host: String?) -> Bool {
        if let limit = kindLimits[kind], runningByKind[kind, default: 0] >= limit { return false }
        if let host, let limit = hostLimit, runningByHost[host, default: 0] >= limit { return false }
        return true
    }

    /// True when an attempt of `kind` may start now (its host is counted already: a
    /// fetch that waited for its host's rate limit).
    func admits(kind: JobKind) -> Bool {
        guard let limit = kindLimits[kind] else { return true }
        return runningByKind[kind, default: 0] < limit
    }

    /// Counts a started attempt.
    mutating func add(kind: JobKind, host: String?) {
        add(kind: kind)
        add(host: host)
    }

    /// Counts an attempt against its kind's limit (when it starts).
    mutating func add(kind: JobKind) {
        runningByKind[kind, default: 0] += 1
    }

    /// Counts a fetch against its host's limit, from its claim: a fetch waiting for its
    /// host's rate limit counts too, so one host's waits never hold more of its jobs than
    /// `limits.per_host` allows.
    mutating func add(host: String?) {
        if let host { runningByHost[host, default: 0] += 1 }
    }

    /// Uncounts an attempt whose end was recorded; `kind` nil for one that never started
    /// (it waited for a rate limit and was cancelled or released).
    mutating func remove(kind: JobKind?, host: String?) {
        if let kind { runningByKind[kind, default: 1] -= 1 }
        if let host {
            runningByHost[host, default: 1] -= 1
            if runningByHost[host] == 0 { runningByHost[host] = nil }
        }
    }

    /// The kinds and hosts at their limits, which the next claim skips, counting the
    /// `leaving` attempts (recorded in the same round) as gone (`kind` nil for one that
    /// never started).
    func saturated(leaving: [(kind: JobKind?, host: String?)]) -> (kinds: Set<JobKind>, hosts: Set<String>) {
        guard !kindLimits.isEmpty || hostLimit != nil else { return ([], []) }
        var byKind = runningByKind
        var byHost = runningByHost
        for attempt in leaving {
            if let kind = attempt.kind { byKind[kind, default: 1] -= 1 }
            if let host = attempt.host { byHost[host, default: 1] -= 1 }
        }
        var kinds: Set<JobKind> = []
        for (kind, limit) in kindLimits where byKind[kind, default: 0] >= limit {
            kinds.insert(kind)
        }
        var hosts: Set<String> = []
        if let hostLimit {
            for (host, count) in byHost where count >= hostLimit { hosts.insert(host) }
        }
        return (kinds, hosts)
    }
}
