import Foundation
import JobdModel
import JobdStore
import Testing

/// The maintenance cases of the conformance suite (issue 14): the database's size, a
/// vacuum that keeps every job, and a backup that is either a file or a refusal naming
/// what to use instead.
extension StoreConformance {
    static let maintenanceCases: [ConformanceCase] = [
        ConformanceCase(
            name: "size grows with stored jobs; vacuum keeps them and gives counted free pages back",
            run: sizeAndVacuum),
        ConformanceCase(name: "backup gives a file of its size, or is refused unsupported", run: backupOrRefusal),
    ]

    static func sizeAndVacuum(_ store: any JobStore) async throws {
        let empty = try await store.size()
        #expect(empty.bytes > 0)
        // Large values, so the jobs take many pages whatever the engine's page size.
        let filler = String(repeating: "x", count: 2000)
        let jobs = (0..<500).map { index in
            NewJob(
                spec: JobSpec(.delay(DelaySpec(seconds: 0, value: .string("\(index)-\(filler)")))),
                priority: 0, runAt: t0, maxAttempts: 1, timeout: nil, onInterrupt: .retry, submitterUID: nil)
        }
        _ = try await store.insert(jobs, now: t0)
        let full = try await store.size()
        #expect(full.bytes > empty.bytes)
        let claimed = try await store.claim(limit: 500, now: t0)
        let settled = try await store.settle(
            SettleRequest(
                finishes: claimed.map { AttemptFinish(attempt: $0.attempt, end: success) },
                claim: ClaimRequest(limit: 0, now: t0)))
        #expect(settled.recorded.allSatisfy { $0 })
        #expect(try await store.prune(finishedBefore: t0 + 1, limit: 400) == 400)
        let pruned = try await store.size()
        if let free = pruned.freeBytes { #expect(free > 0, "400 pruned jobs leave free pages") }
        try await store.vacuum()
        let vacuumed = try await store.size()
        // Only where free pages are counted: PostgreSQL's VACUUM adds its tables' free
        // space and visibility maps, which pg_total_relation_size counts.
        if let free = vacuumed.freeBytes {
            #expect(free == 0)
            #expect(vacuumed.bytes < pruned.bytes)
        }
        #expect(try await store.counts().succeeded == 100)
    }

    static func backupOrRefusal(_ store: any JobStore) async throws {
        _ = try await store.insert([delay(1), delay(2)], now: t0)
        let copy: DatabaseCopy
        do {
            copy = try await store.backup()
        } catch let error as StoreError where error.code == .unsupported {
            #expect(error.message.contains("pg_dump"))
            return
        }
        defer { unlink(copy.path) }
        let attributes = try FileManager.default.attributesOfItem(atPath: copy.path)
        #expect((attributes[.size] as? Int64) == copy.bytes)
        #expect(copy.bytes > 0)
        for suffix in ["-wal", "-shm", "-journal"] {
            #expect(!FileManager.default.fileExists(atPath: copy.path + suffix), "the copy stands alone")
        }
    }
}
