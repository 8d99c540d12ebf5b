import Foundation
import JobdModel

// Scaffold while the engines gain batches (issue 12); removed when both implement them.
extension JobStore {
    public func insertBatch(_ batch: NewBatch, maxQueued: Int?, now: Date) async throws -> BatchInsertOutcome {
        throw StoreError(.badData, "batches are not built yet")
    }
    public func batch(_ id: BatchID) async throws -> BatchRecord? { nil }
    public func batchResults(_ id: BatchID) async throws -> [BatchResultItem] { [] }
    public func batches(_ query: BatchListQuery) async throws -> [BatchRecord] { [] }
    public func cancelBatch(_ id: BatchID, now: Date) async throws -> BatchCancelOutcome? { nil }
}
