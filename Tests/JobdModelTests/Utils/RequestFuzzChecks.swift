import Foundation
import JobdModel

/// The per-input checks of the request fuzzer, shared by the libFuzzer harness
/// (`Fuzz/RequestFuzzer`, built by `scripts/fuzz.sh`, which compiles this file in) and by
/// `FuzzRegressionTests`.
///
/// A refused input is fine. What must never happen is a crash, or an accepted request or
/// a refusal that breaks one of the invariants below; those throw a `Violation`, and the
/// harness traps on it.
enum RequestFuzzChecks {
    /// An invariant that did not hold.
    struct Violation: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// What `POST /v1/jobs` makes of a body.
    enum Outcome {
        case accepted(SubmitJobsRequest)
        case refused(APIError)
    }

    /// The batch limit the body is decoded with: small, so that `batch_too_large` is
    /// within the fuzzer's reach (the daemon's default is 10,000).
    static let maxBatch = 4

    /// The codes `SubmitJobsRequest.decode` may refuse a body with.
    static let submitCodes: Set<String> = [
        "invalid_json", "unknown_kind", "invalid_spec", "invalid_url", "batch_too_large",
    ]

    /// `SubmitFastPath` reads a body only as the strict decoder does: what it accepts, the
    /// decoder accepts and decodes to the same request.
    static func checkFastPath(_ data: Data) throws(Violation) {
        guard let text = String(validating: data, as: UTF8.self) else { return }
        // A stored spec, as the engines' claims read it: as the lenient decoder does.
        if let spec = SubmitFastPath.spec(text) {
            guard let decoded = try? JSONCoding.makeDecoder().decode(JobSpec.self, from: data), decoded == spec else {
                throw Violation("the fast path read the stored spec \(spec), the decoder did not")
            }
        }
        guard let fast = SubmitFastPath.parse(data) else { return }
        let decoded: SubmitJobsRequest
        do {
            decoded = try JSONCoding.makeDecoder(strict: true).decode(SubmitJobsRequest.self, from: data)
        } catch {
            throw Violation("the fast path read a body the decoder refuses (\(error)): \(fast)")
        }
        guard decoded == fast else {
            throw Violation("the fast path read \(fast), the decoder \(decoded)")
        }
    }

    /// The codes `NDJSON.parseSpecs` may refuse a line with.
    static let lineCodes: Set<String> = ["invalid_json", "unknown_kind", "invalid_spec", "invalid_url"]

    /// Runs a body through `SubmitJobsRequest.decode`, the daemon's `POST /v1/jobs` path,
    /// and checks what comes out.
    ///
    /// An accepted request must hold 1 to `maxBatch` specs that each pass `checkSpec`, and
    /// must survive being encoded and decoded again through the same entry point. A
    /// refusal must pass `checkError`.
    ///
    /// - Returns: The outcome, for the caller's own checks.
    /// - Throws: `Violation` when an invariant does not hold.
    @discardableResult
    static func checkSubmitBody(_ data: Data) throws(Violation) -> Outcome {
        try checkFastPath(data)
        let request: SubmitJobsRequest
        do throws(APIError) {
            request = try SubmitJobsRequest.decode(data, maxBatch: maxBatch)
        } catch {
            try checkError(error, codes: submitCodes)
            if error.code == .batchTooLarge, error.field != "jobs" {
                throw Violation("batch_too_large names field \(String(describing: error.field)), not jobs")
            }
            return .refused(error)
        }
        let specs: [JobSpec]
        switch request {
        case .single(let spec):
            specs = [spec]
        case .batch(let batch):
            guard (1...maxBatch).contains(batch.count) else {
                throw Violation("an accepted batch holds \(batch.count) jobs; the limit is \(maxBatch)")
            }
            specs = batch
        }
        for spec in specs {
            try checkSpec(spec)
        }
        try checkKnownFields(data, specs: specs)
        try checkResubmit(request, maxBatch: maxBatch)
        return .accepted(request)
    }

    /// Strict specs: every field of an accepted spec object is one jobd knows for its kind.
    ///
    /// - Throws: `Violation` naming the field that got through.
    static func checkKnownFields(_ data: Data, specs: [JobSpec]) throws(Violation) {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return }
        let objects = (object["jobs"] as? [Any])?.compactMap { $0 as? [String: Any] } ?? [object]
        for (spec, fields) in zip(specs, objects) {
            let unknown = Set(fields.keys).subtracting(JobSpec.fields(of: spec.kind))
            if !unknown.isEmpty {
                throw Violation("an accepted \(spec.kind) spec has unknown fields \(unknown.sorted())")
            }
        }
    }

    /// Runs a body through `CreateBatchRequest.decode`, the daemon's `POST /v1/batches`
    /// path: an accepted batch holds 1 to `maxBatch` jobs that each pass `checkSpec`, none
    /// with a key, every position in range and not its own; a refusal passes `checkError`.
    ///
    /// - Throws: `Violation` when an invariant does not hold.
    static func checkBatchBody(_ data: Data) throws(Violation) {
        let request: CreateBatchRequest
        do throws(APIError) {
            request = try CreateBatchRequest.decode(data, maxBatch: maxBatch)
        } catch {
            try checkError(error, codes: submitCodes)
            return
        }
        guard (1...maxBatch).contains(request.jobs.count) else {
            throw Violation("an accepted batch holds \(request.jobs.count) jobs; the limit is \(maxBatch)")
        }
        for (index, spec) in request.jobs.enumerated() {
            try checkSpec(spec)
            if spec.key != nil { throw Violation("an accepted batch job \(index) has a key") }
            for dependency in spec.after ?? [] {
                if case .position(let position) = dependency, position == index || position >= request.jobs.count {
                    throw Violation("an accepted batch job \(index) waits for @\(position)")
                }
            }
        }
        if let onComplete = request.onComplete {
            try checkSpec(onComplete.replacingBatchID(BatchID(1)))
        }
    }

    /// Runs a body through `ScheduleSpec.decode`, the daemon's `POST /v1/schedules` path: an
    /// accepted schedule has a valid name, a job that passes `checkSpec` without key, after
    /// or run_at, and a cron expression whose next fire times (in its zone) are strictly
    /// increasing, each a whole minute; a refusal passes `checkError`.
    ///
    /// - Throws: `Violation` when an invariant does not hold.
    static func checkScheduleBody(_ data: Data) throws(Violation) {
        let spec: ScheduleSpec
        do throws(APIError) {
            spec = try ScheduleSpec.decode(data)
        } catch {
            try checkError(error, codes: submitCodes)
            return
        }
        guard ScheduleSpec.isValidName(spec.name) else { throw Violation("an accepted schedule is named \(spec.name)") }
        try checkSpec(spec.job)
        if spec.job.key != nil || spec.job.after != nil || spec.job.runAt != nil {
            throw Violation("an accepted schedule's job has a key, after or run_at")
        }
        guard let (cron, zone) = try? spec.parsed() else { throw Violation("an accepted schedule does not parse") }
        let start = Date(timeIntervalSince1970: 1_799_064_000)
        let times = cron.fireTimes(after: start, in: zone ?? TimeZone(identifier: "UTC")!, count: 3)
        guard !times.isEmpty else { throw Violation("an accepted cron \(spec.cron.debugDescription) never fires") }
        var previous = start
        for time in times {
            guard time > previous, time.timeIntervalSince1970.truncatingRemainder(dividingBy: 60) == 0 else {
                throw Violation("cron \(spec.cron.debugDescription) fires at \(time) after \(previous)")
            }
            previous = time
        }
    }

    /// Checks the promises of `JobSpec.validate()` on a spec that passed it.
    ///
    /// - Throws: `Violation` naming the first promise broken.
    static func checkSpec(_ spec: JobSpec) throws(Violation) {
        switch spec.payload {
        case .delay(let delay):
            guard delay.seconds.isFinite, delay.seconds >= 0, delay.seconds <= JobSpec.maxDelaySeconds else {
                throw Violation("a validated delay has seconds \(delay.seconds)")
            }
            if let value = delay.value, !isEncodable(value) {
                throw Violation("a validated delay has a value with a non-finite number: \(value)")
            }
        case .fetch(let fetch):
            guard let components = URLComponents(string: fetch.url),
                let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
                components.host?.isEmpty == false
            else {
                throw Violation("a validated fetch has the URL \(fetch.url.debugDescription)")
            }
            guard fetch.hostKey != nil else {
                throw Violation("a validated fetch URL has no host key: \(fetch.url.debugDescription)")
            }
            if let cap = fetch.maxBodyBytes, cap < 0 {
                throw Violation("a validated fetch has max_body_bytes \(cap)")
            }
            for (name, value) in fetch.headers ?? [:] {
                guard !name.isEmpty, !name.utf8.contains(where: { $0 <= 32 || $0 >= 127 }),
                    !value.utf8.contains(where: { $0 == 10 || $0 == 13 })
                else {
                    throw Violation(
                        "a validated fetch has the header \(name.debugDescription): \(value.debugDescription)")
                }
            }
        }
        if let timeout = spec.timeout, !(timeout.isFinite && timeout > 0) {
            throw Violation("a validated spec has timeout \(timeout)")
        }
        if let maxAttempts = spec.maxAttempts, !(1...JobSpec.maxAttemptsLimit).contains(maxAttempts) {
            throw Violation("a validated spec has max_attempts \(maxAttempts)")
        }
        if let key = spec.key, key.isEmpty || key.utf8.count > JobSpec.maxKeyBytes {
            throw Violation("a validated spec has a key of \(key.utf8.count) bytes")
        }
        try checkRecordText(spec)
    }

    /// The API's record of a job with this spec (and, for a delay, its value as the result):
    /// `JSONText`'s bytes are the encoder's, whenever it writes them.
    static func checkRecordText(_ spec: JobSpec) throws(Violation) {
        let at = Date(timeIntervalSince1970: 1_796_680_471.5)
        var result: JobResult?
        if case .delay(let delay) = spec.payload, let value = delay.value { result = .delay(DelayResult(value: value)) }
        let record = JobRecord(
            id: JobID(rawValue: 1), kind: spec.kind, spec: spec, state: .succeeded, priority: spec.priority ?? 0,
            runAt: at, maxAttempts: spec.maxAttempts ?? 3, attemptCount: 1, createdAt: at, updatedAt: at,
            finishedAt: at, submitterUID: 0, result: result, error: nil,
            attempts: [JobAttempt(id: 1, number: 1, startedAt: at, finishedAt: at, outcome: .succeeded, error: nil)])
        guard let fast = JSONText.encode(record) else { return }
        guard let data = try? JSONCoding.makeEncoder().encode(record) else {
            throw Violation("the writer wrote a record the encoder cannot: \(fast)")
        }
        let encoded = String(decoding: data, as: UTF8.self)
        guard fast == encoded else {
            throw Violation("the record writer wrote \(fast.debugDescription), the encoder \(encoded.debugDescription)")
        }
    }

    /// Checks a refusal: one of the documented stable codes, the HTTP status that goes
    /// with it, a message, a non-empty field when there is one, and an error body that
    /// the client decodes back to the same error.
    ///
    /// - Parameter codes: The codes the entry point documents.
    static func checkError(_ error: APIError, codes: Set<String>) throws(Violation) {
        guard codes.contains(error.code.rawValue) else {
            throw Violation("undocumented error code \(error.code.rawValue.debugDescription): \(error)")
        }
        let status = error.code == .batchTooLarge ? 413 : 400
        guard error.httpStatus == status else {
            throw Violation("\(error.code) maps to HTTP \(error.httpStatus), not \(status)")
        }
        guard !error.message.isEmpty else { throw Violation("\(error.code) has an empty message") }
        if let field = error.field, field.isEmpty { throw Violation("\(error.code) names an empty field") }
        if error.code == .unknownKind, error.field?.hasSuffix("kind") != true {
            throw Violation("unknown_kind names field \(String(describing: error.field))")
        }
        let body = APIErrorResponse(error: error)
        do {
            let data = try JSONCoding.makeEncoder().encode(body)
            let decoded = try JSONCoding.makeDecoder().decode(APIErrorResponse.self, from: data)
            guard decoded == body else {
                throw Violation("the error body decodes to \(decoded.error), not \(error)")
            }
        } catch let violation as Violation {
            throw violation
        } catch {
            throw Violation("the error body of \(body.error) does not encode and decode: \(error)")
        }
    }

    /// Checks that specs `jobctl gather` accepted from an NDJSON file are accepted by the
    /// daemon as the batch the client sends (`JobdClient.submit(batch:)`), unchanged.
    static func checkGatherBatch(_ specs: [JobSpec]) throws(Violation) {
        guard !specs.isEmpty else { return }
        try checkResubmit(.batch(specs), maxBatch: specs.count)
    }

    /// Encodes a request as the client does and decodes it as the daemon does: it must be
    /// accepted and equal to the original, but for `run_at`, which the wire carries to the
    /// millisecond; a second trip must then change nothing at all.
    private static func checkResubmit(_ request: SubmitJobsRequest, maxBatch: Int) throws(Violation) {
        let once = try resubmit(request, maxBatch: maxBatch)
        guard sameSpecs(once, request, runAtTolerance: 0.001) else {
            throw Violation("re-encoding \(request) gives \(once)")
        }
        let twice = try resubmit(once, maxBatch: maxBatch)
        guard twice == once else {
            throw Violation("re-encoding \(once) again gives \(twice)")
        }
    }

    private static func resubmit(_ request: SubmitJobsRequest, maxBatch: Int) throws(Violation) -> SubmitJobsRequest {
        let data: Data
        do {
            data = try JSONCoding.makeEncoder().encode(request)
        } catch {
            throw Violation("an accepted request does not encode: \(error); request: \(request)")
        }
        do throws(APIError) {
            return try SubmitJobsRequest.decode(data, maxBatch: maxBatch)
        } catch {
            throw Violation(
                "the daemon refuses a re-encoded accepted request: \(error); body: "
                    + String(decoding: data, as: UTF8.self))
        }
    }

    private static func sameSpecs(_ a: SubmitJobsRequest, _ b: SubmitJobsRequest, runAtTolerance: Double) -> Bool {
        switch (a, b) {
        case (.single(let x), .single(let y)):
            return sameSpec(x, y, runAtTolerance: runAtTolerance)
        case (.batch(let xs), .batch(let ys)):
            return xs.count == ys.count
                && zip(xs, ys).allSatisfy { sameSpec($0, $1, runAtTolerance: runAtTolerance) }
        default:
            return false
        }
    }

    private static func sameSpec(_ a: JobSpec, _ b: JobSpec, runAtTolerance: Double) -> Bool {
        var a = a
        var b = b
        switch (a.runAt, b.runAt) {
        case (nil, nil): break
        case (let x?, let y?):
            guard abs(x.timeIntervalSince(y)) <= runAtTolerance else { return false }
        default: return false
        }
        a.runAt = nil
        b.runAt = nil
        return a == b
    }

    /// True when every number in the value is finite (JSON cannot carry the others).
    private static func isEncodable(_ value: JSONValue) -> Bool {
        switch value {
        case .double(let number): number.isFinite
        case .array(let values): values.allSatisfy(isEncodable)
        case .object(let members): members.values.allSatisfy(isEncodable)
        case .null, .bool, .int, .string: true
        }
    }
}
