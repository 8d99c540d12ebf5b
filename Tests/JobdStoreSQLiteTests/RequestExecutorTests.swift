import Foundation
import JobdModel
import JobdStore
import JobdStoreSQLite
import Synchronization
import Testing

@Suite struct RequestExecutorTests {
    final class Counter: Sendable {
        let value = Atomic(0)
    }

    @Test("tasks that prefer the executor run on its threads, every one of them; others do not")
    func runsItsTasks() async throws {
        let executor = RequestExecutor(threads: 2, name: "test-request")
        #expect(!RequestExecutor.isCurrentThread)
        let onThreads = Counter()
        await withTaskExecutorPreference(executor) {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<1000 {
                    group.addTask {
                        if RequestExecutor.isCurrentThread { onThreads.value.add(1, ordering: .relaxed) }
                        await Task.yield()
                        if RequestExecutor.isCurrentThread { onThreads.value.add(1, ordering: .relaxed) }
                    }
                }
            }
        }
        #expect(
            onThreads.value.load(ordering: .relaxed) == 2000, "child tasks inherit the preference, also after a yield")
        let elsewhere = await Task.detached { RequestExecutor.isCurrentThread }.value
        #expect(!elsewhere)
    }

    @Test("a store read on a request thread runs there and sees every committed write")
    func readsInPlace() async throws {
        try await withTemporaryStore { store in
            try await withTaskExecutorPreference(RequestExecutor.shared) {
                for round in 0..<50 {
                    let id = try #require(try await store.insert([.delay()], now: t0).first).id
                    #expect(RequestExecutor.isCurrentThread)
                    let record = try await store.job(id)
                    #expect(record?.id == id && record?.state == .queued, "round \(round)")
                    #expect(RequestExecutor.isCurrentThread, "the read did not leave the request thread")
                }
                #expect(try await store.counts().queued == 50)
            }
        }
    }
}
