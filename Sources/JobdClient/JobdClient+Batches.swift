import Foundation
import JobdModel
import NIOHTTP1

/// Batches: `gather` that outlives its client.
extension JobdClient {
    /// Creates a batch: its jobs stored in one transaction, their results kept together in
    /// submit order, and an optional `on_complete` job queued once when all have ended.
    ///
    /// - Returns: The batch's id, its jobs' ids in order, the `on_complete` job's id.
    /// - Throws: `APIError` with `invalid_spec` (the field names the job, as in
    ///   `jobs[3].seconds`, or `on_complete.url`), `invalid_url`, `unknown_kind`,
    ///   `batch_too_large`, `payload_too_large`, `shutting_down`; `QueueFullError` when
    ///   the backlog has no room for the batch (nothing is stored); or `ClientError`.
    public func createBatch(_ request: CreateBatchRequest) async throws -> CreateBatchResponse {
        let response = try await send(
            .POST, APIRoutes.batches, body: encode(request), as: CreateBatchResponse.self)
        guard response.jobIDs.count == request.jobs.count else {
            throw ClientError(
                .badResponse,
                "jobd at \(socketPath) answered a batch of \(request.jobs.count) jobs with \(response.jobIDs.count) ids"
            )
        }
        return response
    }

    /// The batch with its counts per state and its job ids.
    ///
    /// - Throws: `APIError` with `batch_not_found`, or `ClientError`.
    public func batch(_ id: BatchID) async throws -> BatchRecord {
        try await send(.GET, APIRoutes.batch(id), as: BatchRecord.self)
    }

    /// Lists batches, newest first, one page at a time.
    ///
    /// - Throws: `APIError` with `invalid_query`, or `ClientError`.
    public func batches(state: BatchState? = nil, limit: Int? = nil, after: BatchID? = nil) async throws
        -> BatchListResponse
    {
        var query: [String] = []
        if let state { query.append("state=\(state.rawValue)") }
        if let limit { query.append("limit=\(limit)") }
        if let after { query.append("after=\(after)") }
        let uri = query.isEmpty ? APIRoutes.batches : APIRoutes.batches + "?" + query.joined(separator: "&")
        return try await send(.GET, uri, as: BatchListResponse.self)
    }

    /// Waits until the batch is finished or `timeout` passes, long-polling in slices as
    /// `wait(_:timeout:)` does.
    ///
    /// - Returns: The batch, and its results in submit order once it is finished (check
    ///   `results != nil`).
    /// - Throws: `APIError` with `batch_not_found`, `ClientError`, or `CancellationError`.
    public func waitBatch(_ id: BatchID, timeout: Duration? = nil) async throws -> BatchWaitResponse {
        let clock = ContinuousClock()
        let end = timeout.map { clock.now.advanced(by: max($0, .zero)) }
        while true {
            var slice = Self.longPollInterval
            if let end { slice = min(slice, max(end - clock.now, .zero)) }
            let uri = APIRoutes.batchWait(id) + "?timeout=" + slice.timeoutParameter
            let answer = try await send(.GET, uri, deadline: slice + Self.longPollGrace, as: BatchWaitResponse.self)
            if answer.results != nil { return answer }
            if let end, clock.now >= end { return answer }
            try Task.checkCancellation()
        }
    }

    /// Cancels every unfinished job of a batch.
    ///
    /// - Throws: `APIError` with `batch_not_found`, or `ClientError`.
    public func cancelBatch(_ id: BatchID) async throws -> BatchCancelResponse {
        try await send(.POST, APIRoutes.batchCancel(id), as: BatchCancelResponse.self)
    }
}
