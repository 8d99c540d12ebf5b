import Foundation
import JobctlOutput
import JobdClient
import JobdModel
import Synchronization

/// One run of `jobctl top`: the model, fed by the event stream, stats and keys, and drawn.
final class TopSession: Sendable {
    let client: JobdClient
    let terminal: Terminal
    let model: Mutex<TopModel>
    /// Set by whatever changed the model; the drawing loop clears it.
    let dirty = Mutex(true)
    /// The job shown in detail, with its record once read.
    let detail = Mutex<(id: JobID, record: JobRecord?, error: String?)?>(nil)

    init(client: JobdClient, terminal: Terminal, socketPath: String) {
        self.client = client
        self.terminal = terminal
        model = Mutex(TopModel(socketPath: socketPath))
    }

    func run() async throws {
        try await seed()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.followEvents() }
            group.addTask { await self.pollStats() }
            group.addTask { await self.describeRows() }
            group.addTask { await self.drawLoop() }
            await handleInputs()
            group.cancelAll()
        }
    }

    /// The jobs running at the start: one list request.
    private func seed() async throws {
        let page = try await client.list(state: .running, limit: 1000)
        let jobs = page.jobs.map { job in
            (
                id: job.id, attempt: max(1, job.attemptCount), startedAt: job.updatedAt, kind: job.kind,
                target: HumanFormat.summary(job.spec)
            )
        }
        model.withLock { $0.seed(running: jobs) }
        await refreshStats()
    }

    private func changed() { dirty.withLock { $0 = true } }

    private func followEvents() async {
        do {
            for try await event in try await client.events() {
                model.withLock { $0.apply(event: event) }
                changed()
            }
            model.withLock {
                $0.streamEnded = true
                $0.notice = "jobd ended the event stream (it stopped?); q to quit"
            }
        } catch is CancellationError {
            return
        } catch {
            model.withLock { $0.notice = "the event stream broke: \(error)" }
        }
        changed()
    }

    private func refreshStats() async {
        do {
            let stats = try await client.stats()
            model.withLock { $0.apply(stats: stats, at: Date()) }
        } catch is CancellationError {
        } catch {
            model.withLock { $0.notice = "stats: \(error)" }
        }
        changed()
    }

    /// Stats at each redraw while events arrive (at most 4 a second), else once a second.
    private func pollStats() async {
        var quietTicks = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(250))
            quietTicks += 1
            if dirty.withLock({ $0 }) || quietTicks >= 4 {
                quietTicks = 0
                await refreshStats()
            }
        }
    }

    /// Looks up kind and target for running rows that lack them (a few per tick).
    private func describeRows() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(250))
            let missing = model.withLock { model in
                model.runningRows.filter { $0.kind == nil }.prefix(8).map(\.id)
            }
            for id in missing {
                guard let record = try? await client.job(id) else { continue }
                model.withLock { $0.describe(id, kind: record.kind, target: HumanFormat.summary(record.spec)) }
                changed()
            }
        }
    }

    private func drawLoop() async {
        var lastSecond = -1
        while !Task.isCancelled {
            let now = Date()
            let second = Int(now.timeIntervalSince1970)
            if dirty.withLock({ value in
                defer { value = false }
                return value
            }) || second != lastSecond {
                lastSecond = second
                draw(now: now)
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
    }

    private func draw(now: Date) {
        let size = terminal.size
        let screen = TopScreen(width: size.width, height: size.height)
        if let shown = detail.withLock({ $0 }) {
            terminal.draw(screen.detailLines(shown.record, id: shown.id, error: shown.error))
        } else {
            terminal.draw(model.withLock { screen.lines($0, now: now) })
        }
    }

    /// Handles keys and signals until one ends the view.
    private func handleInputs() async {
        for await input in terminal.inputs {
            if detail.withLock({ $0 }) != nil {
                switch input {
                case .escape, .enter, .key("q"), .key("Q"):
                    detail.withLock { $0 = nil }
                case .interrupt, .signal: return
                default: break
                }
                changed()
                continue
            }
            model.withLock { $0.notice = nil }
            switch input {
            case .key("q"), .key("Q"), .interrupt, .signal: return
            case .key("p"), .key("P"): await togglePause()
            case .key("f"), .key("F"):
                model.withLock { model in
                    model.filter = model.filter.next
                    model.selection = 0
                }
            case .up: model.withLock { $0.move(-1) }
            case .down: model.withLock { $0.move(1) }
            case .enter: await showDetail()
            default: break
            }
            changed()
        }
    }

    private func togglePause() async {
        let paused = model.withLock { $0.stats?.paused ?? false }
        do {
            _ = try await (paused ? client.resume() : client.pause())
        } catch {
            model.withLock { $0.notice = "\(paused ? "resume" : "pause"): \(error)" }
        }
        await refreshStats()
    }

    private func showDetail() async {
        guard let id = model.withLock({ $0.selectedJob }) else { return }
        detail.withLock { $0 = (id, nil, nil) }
        draw(now: Date())
        do {
            let record = try await client.job(id)
            detail.withLock { if $0?.id == id { $0 = (id, record, nil) } }
        } catch {
            detail.withLock { if $0?.id == id { $0 = (id, nil, "\(error)") } }
        }
    }
}
