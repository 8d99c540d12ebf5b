import Foundation
import JobdModel
import JobdStore
import JobdStoreSQLite
import Testing

/// What the store keeps and answers for access control: submitters, the list filter, key owners.
@Suite struct JobStoreAccessTests {
    @Test("list with submitterUID holds only that uid's jobs, newest first; unowned jobs never match")
    func listBySubmitter() async throws {
        try await withTemporaryStore { store in
            let ids = try await store.insert(
                [
                    .delay(submitterUID: 1000), .delay(submitterUID: 1001), .delay(), .delay(submitterUID: 1000),
                    .delay(submitterUID: 1000),
                ], now: t0
            ).map(\.id)
            _ = try await store.cancel(ids[4], now: t0)
            #expect(try await store.list(limit: 100, submitterUID: 1000).map(\.id) == [ids[4], ids[3], ids[0]])
            #expect(try await store.list(limit: 100, submitterUID: 1001).map(\.id) == [ids[1]])
            #expect(try await store.list(limit: 100, submitterUID: 0).isEmpty)
            #expect(try await store.list(limit: 100).map(\.id) == ids.reversed())
            // Combined with the other filters and the cursor.
            #expect(try await store.list(state: .queued, limit: 100, submitterUID: 1000).map(\.id) == [ids[3], ids[0]])
            #expect(try await store.list(state: .cancelled, limit: 100, submitterUID: 1001).isEmpty)
            #expect(try await store.list(kind: .delay, limit: 1, submitterUID: 1000).map(\.id) == [ids[4]])
            #expect(try await store.list(limit: 100, before: ids[3], submitterUID: 1000).map(\.id) == [ids[0]])
        }
    }

    @Test("owner(of:) answers the submitter, none for an unowned job, nil for a missing one")
    func owner() async throws {
        try await withTemporaryStore { store in
            let owned = try await store.insertOne(.delay(submitterUID: 1000))
            let unowned = try await store.insertOne(.delay())
            #expect(try await store.owner(of: owned) == JobOwner(submitterUID: 1000))
            #expect(try await store.owner(of: unowned) == JobOwner(submitterUID: nil))
            #expect(try await store.owner(of: 4242) == nil)
        }
    }

    @Test("a claim carries the job's submitter")
    func claimCarriesSubmitter() async throws {
        try await withTemporaryStore { store in
            let claim = try await store.insertAndClaim(.delay(submitterUID: 1000))
            #expect(claim.submitterUID == 1000)
            let unowned = try await store.insertAndClaim(.delay())
            #expect(unowned.submitterUID == nil)
        }
    }

    @Test("a key taken by another submitter refuses the whole insert with key_taken")
    func keyOfAnotherSubmitter() async throws {
        try await withTemporaryStore { store in
            let first = try await store.insertOne(.delay(key: "nightly", submitterUID: 1000))
            let again = try await store.insert([.delay(key: "nightly", submitterUID: 1000)], now: t0)
            #expect(again == [InsertOutcome(id: first, created: false)])
            await expectStoreError(.keyTaken) {
                _ = try await store.insert(
                    [.delay(submitterUID: 1001), .delay(key: "nightly", submitterUID: 1001)], now: t0)
            }
            // A job stored without a submitter keeps its key from every uid.
            _ = try await store.insertOne(.delay(key: "legacy"))
            await expectStoreError(.keyTaken) {
                _ = try await store.insert([.delay(key: "legacy", submitterUID: 1000)], now: t0)
            }
            #expect(try await store.list(limit: 100).count == 2)
        }
    }
}
