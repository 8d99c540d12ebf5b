import Foundation
import JobdModel
import JobdStore
import Logging
import ServiceLifecycle
import Synchronization

/// Fires schedules: each slot of each schedule becomes one job, keyed
/// `schedule:<name>:<slot>`, submitted as the schedule's owner.
///
/// It sleeps until the earliest next slot of all schedules and wakes early when the change
/// feed says the schedules changed (any node), when this node becomes or stops being the
/// one that fires (`JobStore.firesSchedules`: the leader on PostgreSQL) and after lost
/// notifications; it never polls. A slot's job is inserted first and the schedule's
/// `last_slot` advanced after, so a crash in between fires nothing twice (the key) and
/// nothing is lost (the next look fires it again, as a no-op or for real). A store that
/// cannot write is tried again with backoff; the slots stay due.
public final class ScheduleRunner: Service, Sendable {
    let store: any JobStore
    let dispatcher: Dispatcher
    /// How long before this node began firing a slot still counts as on time (see
    /// `SchedulePlan`): zero for one node, about a lease for a cluster.
    let missedGrace: TimeInterval
    let logger: Logger
    private let wakeups: AsyncStream<Void>
    private let wakeup: AsyncStream<Void>.Continuation
    /// Names whose stored cron or zone does not parse, logged once each.
    private let broken = Mutex<Set<String>>([])

    /// The longest sleep: a wall clock set back or forward is noticed within this.
    static let longestSleep: Duration = .seconds(300)

    public init(store: any JobStore, dispatcher: Dispatcher, missedGrace: Duration, logger: Logger) {
        self.store = store
        self.dispatcher = dispatcher
        self.missedGrace = missedGrace.secondsValue
        self.logger = logger
        (wakeups, wakeup) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let wakeup = self.wakeup
        store.subscribe { change in
            switch change {
            case .schedulesChanged, .leadershipChanged, .resynchronized: wakeup.yield()
            default: break
            }
        }
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await self.loop()
        } onGracefulShutdown: {
            self.wakeup.finish()
        }
    }

    /// Looks now, as after a change.
    public func wake() {
        wakeup.yield()
    }

    private func loop() async {
        var activeSince: Date?
        var failurePause: Duration?
        var timer: Task<Void, Never>?
        defer { timer?.cancel() }
        wakeup.yield()
        for await _ in wakeups {
            timer?.cancel()
            var sleep = Self.longestSleep
            if store.firesSchedules {
                let since = activeSince ?? Date()
                if activeSince == nil {
                    activeSince = since
                    logger.info("this node fires the schedules")
                }
                do {
                    if let next = try await fireDue(activeSince: since) {
                        sleep = min(sleep, .milliseconds(Int64(max(0, next.timeIntervalSinceNow) * 1000) + 1))
                    }
                    failurePause = nil
                } catch {
                    let pause = min((failurePause ?? .milliseconds(500)) * 2, .seconds(30))
                    if failurePause == nil {
                        logger.error(
                            "cannot fire schedules; trying again", metadata: ["error": "\(error)"])
                    }
                    failurePause = pause
                    sleep = pause
                }
            } else if activeSince != nil {
                activeSince = nil
                logger.info("this node no longer fires the schedules")
            }
            let wakeup = self.wakeup
            timer = Task {
                guard (try? await Task.sleep(for: sleep)) != nil else { return }
                wakeup.yield()
            }
        }
    }

    /// Fires every due slot of every schedule.
    ///
    /// - Returns: The earliest next slot of all schedules.
    private func fireDue(activeSince: Date) async throws -> Date? {
        var earliest: Date?
        for record in try await store.schedules() {
            guard let (cron, zone) = try? record.spec.parsed() else {
                let first = broken.withLock { $0.insert(record.name).inserted }
                if first {
                    logger.error(
                        "schedule \(record.name) no longer parses (its zone may be gone from the system); it does not fire",
                        metadata: ["schedule": "\(record.name)"])
                }
                continue
            }
            let now = Date()
            let plan = SchedulePlan.plan(
                record, cron: cron, zone: zone ?? TimeZone(identifier: "UTC")!, now: now, activeSince: activeSince,
                grace: missedGrace)
            var lastJob: JobID?
            if !plan.fire.isEmpty {
                let outcomes = try await dispatcher.fireSchedule(record, slots: plan.fire)
                lastJob = outcomes.last?.id
                let created = outcomes.count { $0.created }
                logger.info(
                    "schedule fired",
                    metadata: [
                        "schedule": "\(record.name)", "slots": "\(plan.fire.count)", "created": "\(created)",
                        "slot": "\(RFC3339.string(from: plan.fire.last!))",
                    ])
            } else if let advanceTo = plan.advanceTo, advanceTo > (record.lastSlot ?? record.createdAt) {
                logger.notice(
                    "schedule skipped the slots missed while no node fired them",
                    metadata: ["schedule": "\(record.name)", "through": "\(RFC3339.string(from: advanceTo))"])
            }
            if let advanceTo = plan.advanceTo {
                try await store.advanceSchedule(named: record.name, to: advanceTo, lastJobID: lastJob, now: now)
            }
            if let next = plan.next { earliest = min(earliest ?? next, next) }
        }
        return earliest
    }
}
