import Foundation

/// The body of `POST /v1/batches`: jobs stored together, in one transaction, whose results
/// come back in submit order.
///
/// `{"jobs":[spec, …], "label":"nightly", "on_complete":spec}`. `on_complete` is a job
/// queued once when every job of the batch has ended, whatever their outcomes; in a fetch
/// `url`, `{batch_id}` is replaced by the batch's id.
public struct CreateBatchRequest: Codable, Hashable, Sendable {
    /// The batch's jobs, in order: at least one.
    public var jobs: [JobSpec]
    /// A label for people (`jobctl batch list`), up to `maxLabelBytes` bytes.
    public var label: String?
    /// The job to queue when the batch ends.
    public var onComplete: JobSpec?

    /// The longest label, in bytes.
    public static let maxLabelBytes = 256

    public init(jobs: [JobSpec], label: String? = nil, onComplete: JobSpec? = nil) {
        self.jobs = jobs
        self.label = label
        self.onComplete = onComplete
    }

    enum CodingKeys: String, CodingKey {
        case jobs
        case label
        case onComplete = "on_complete"
    }

    /// Decodes and validates a request body.
    ///
    /// - Throws: `APIError` with `invalid_json`, `unknown_kind`, `invalid_spec` (naming the
    ///   field: `jobs[3].seconds`, `on_complete.url`, `label`), `invalid_url`, or
    ///   `batch_too_large`.
    public static func decode(_ data: some DataProtocol, maxBatch: Int) throws(APIError) -> CreateBatchRequest {
        let body = Data(data)
        guard String(validating: body, as: UTF8.self) != nil else {
            throw APIError(.invalidJSON, "the body is not valid UTF-8")
        }
        let request: CreateBatchRequest
        do {
            request = try JSONCoding.makeDecoder(strict: true).decode(CreateBatchRequest.self, from: body)
        } catch let error as DecodingError {
            throw APIError(decoding: error)
        } catch {
            throw APIError(.invalidJSON, "the body is not valid JSON")
        }
        try request.validate(maxBatch: maxBatch)
        return request
    }

    /// Checks the request's values beyond what decoding checks.
    ///
    /// A job of a batch may not carry an idempotency `key`: a key that named an older job
    /// would make that job a member of two batches.
    ///
    /// - Throws: `APIError` `invalid_spec` (field named), `invalid_url` or `batch_too_large`.
    public func validate(maxBatch: Int) throws(APIError) {
        guard !jobs.isEmpty else {
            throw APIError(.invalidSpec, "a batch needs at least one job", field: "jobs")
        }
        guard jobs.count <= maxBatch else {
            throw APIError(
                .batchTooLarge, "a batch may hold at most \(maxBatch) jobs, got \(jobs.count)", field: "jobs")
        }
        for (index, spec) in jobs.enumerated() {
            try spec.validate(fieldPrefix: "jobs[\(index)].")
            if spec.key != nil {
                throw APIError(
                    .invalidSpec, "a job of a batch cannot have its own idempotency key", field: "jobs[\(index)].key")
            }
        }
        try JobSpec.validateDependencies(jobs, inBatch: true)
        if let label, label.isEmpty || label.utf8.count > Self.maxLabelBytes {
            throw APIError(.invalidSpec, "label must be 1 to \(Self.maxLabelBytes) bytes", field: "label")
        }
        if let onComplete {
            // `{batch_id}` is not a URL character: check the URL as it will be stored.
            try onComplete.replacingBatchID(BatchID(1)).validate(fieldPrefix: "on_complete.")
            if onComplete.after != nil {
                throw APIError(
                    .invalidSpec, "on_complete waits for its batch; it cannot have an after of its own",
                    field: "on_complete.after")
            }
        }
    }
}

extension JobSpec {
    /// The placeholder in an `on_complete` fetch URL that becomes the batch's id.
    public static let batchIDPlaceholder = "{batch_id}"

    /// This spec with `{batch_id}` in a fetch URL replaced by `id`.
    public func replacingBatchID(_ id: BatchID) -> JobSpec {
        guard case .fetch(var fetch) = payload, fetch.url.contains(Self.batchIDPlaceholder) else { return self }
        fetch.url = fetch.url.replacingOccurrences(of: Self.batchIDPlaceholder, with: id.description)
        var spec = self
        spec.payload = .fetch(fetch)
        return spec
    }
}

/// The answer to `POST /v1/batches`: 201 after the commit.
public struct CreateBatchResponse: Codable, Hashable, Sendable {
    /// The batch's id.
    public var id: BatchID
    /// Its jobs' ids, in the order of the request.
    public var jobIDs: [JobID]
    /// The `on_complete` job's id (`waiting` until the batch ends), if one was given.
    public var onCompleteID: JobID?

    public init(id: BatchID, jobIDs: [JobID], onCompleteID: JobID?) {
        self.id = id
        self.jobIDs = jobIDs
        self.onCompleteID = onCompleteID
    }

    enum CodingKeys: String, CodingKey {
        case id
        case jobIDs = "job_ids"
        case onCompleteID = "on_complete_id"
    }
}

/// One job's outcome in a batch's results: `gather(return_exceptions=True)`'s element.
public struct BatchResultItem: Codable, Hashable, Sendable {
    /// The job.
    public var id: JobID
    /// Its state (terminal once the batch is finished).
    public var state: JobState
    /// Its result, when it has one (also for an `http_status` failure).
    public var result: JobResult?
    /// Its error, when it failed or was cancelled.
    public var error: JobError?

    public init(id: JobID, state: JobState, result: JobResult?, error: JobError?) {
        self.id = id
        self.state = state
        self.result = result
        self.error = error
    }
}

/// The answer to `GET /v1/batches/{id}/wait`: the batch, and once it is finished its
/// results in submit order.
///
/// On the wire it is the batch's record with one more field, `results` (absent while the
/// batch still runs, when the wait's timeout passed first).
public struct BatchWaitResponse: Codable, Hashable, Sendable {
    /// The batch as it is.
    public var batch: BatchRecord
    /// One entry per job, in submit order; nil while the batch runs.
    public var results: [BatchResultItem]?

    public init(batch: BatchRecord, results: [BatchResultItem]?) {
        self.batch = batch
        self.results = results
    }

    enum CodingKeys: String, CodingKey { case results }

    public init(from decoder: any Decoder) throws {
        batch = try BatchRecord(from: decoder)
        results = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(
            [BatchResultItem].self, forKey: .results)
    }

    public func encode(to encoder: any Encoder) throws {
        try batch.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(results, forKey: .results)
    }
}

/// The answer to `GET /v1/batches`: one page, newest first.
public struct BatchListResponse: Codable, Hashable, Sendable {
    /// The batches, without their job ids.
    public var batches: [BatchRecord]
    /// Pass as `after` for the next page; absent on the last page.
    public var nextAfter: BatchID?

    public init(batches: [BatchRecord], nextAfter: BatchID?) {
        self.batches = batches
        self.nextAfter = nextAfter
    }

    enum CodingKeys: String, CodingKey {
        case batches
        case nextAfter = "next_after"
    }
}

/// The answer to `POST /v1/batches/{id}/cancel`.
public struct BatchCancelResponse: Codable, Hashable, Sendable {
    /// The batch.
    public var id: BatchID
    /// Jobs that were waiting or queued and are now `cancelled`.
    public var cancelled: Int
    /// Running jobs asked to stop (each ends `cancelled` once stopped).
    public var stopping: Int

    public init(id: BatchID, cancelled: Int, stopping: Int) {
        self.id = id
        self.cancelled = cancelled
        self.stopping = stopping
    }
}
