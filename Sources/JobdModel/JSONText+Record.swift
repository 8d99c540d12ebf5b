import Foundation

extension JSONText {
    /// A job record as the API answers it: the text `JSONCoding.makeEncoder()` writes, byte
    /// for byte (sorted keys, absent optionals left out, dates as `RFC3339`), without
    /// `JSONEncoder`; nil when its spec or result holds what only the encoder writes so (a
    /// fractional number: see `encode(_: JobSpec)`), and the caller falls back to it. A
    /// fetch's result is the encoder's own text inside it.
    ///
    /// `JSONEncoder` writing the record was 44 % of a request thread's CPU for `GET
    /// /v1/jobs/{id}` (docs/benchmarks.md, round two, third sitting); every submit and
    /// every `wait` answers a record too.
    ///
    /// - Parameter record: The job.
    /// - Returns: Its JSON text, or nil.
    public static func encode(_ record: JobRecord) -> String? {
        guard let spec = encode(record.spec) else { return nil }
        var result: String?
        switch record.result {
        case nil:
            break
        case .delay(let value)?:
            guard let text = encode(.delay(value)) else { return nil }
            result = text
        case .fetch(let value)?:
            // The writer's fetch text decodes the same but may print `elapsed_ms` otherwise
            // than the encoder does: this part is the encoder's.
            guard let data = try? JSONCoding.makeEncoder().encode(JobResult.fetch(value)) else { return nil }
            result = String(decoding: data, as: UTF8.self)
        }
        var out: [UInt8] = []
        out.reserveCapacity(320 + spec.utf8.count + (result?.utf8.count ?? 0))
        // In the encoder's order: keys sorted by their UTF-8 bytes.
        append(#"{"attempt_count":"#, to: &out)
        append(String(record.attemptCount), to: &out)
        if let attempts = record.attempts {
            appendArray(#","attempts":"#, attempts, to: &out) { append($0, to: &$1) }
        }
        if let batch = record.batchID {
            append(#","batch_id":"#, to: &out)
            append(String(batch.rawValue), to: &out)
        }
        if let children = record.children {
            appendArray(#","children":"#, children, to: &out) { append(String($0.rawValue), to: &$1) }
        }
        appendDate(#","created_at":"#, record.createdAt, to: &out)
        if let error = record.error {
            append(#","error":"#, to: &out)
            append(error, to: &out)
        }
        if let finishedAt = record.finishedAt { appendDate(#","finished_at":"#, finishedAt, to: &out) }
        append(#","id":"#, to: &out)
        append(String(record.id.rawValue), to: &out)
        append(#","kind":"#, to: &out)
        appendString(record.kind.rawValue, to: &out)
        append(#","max_attempts":"#, to: &out)
        append(String(record.maxAttempts), to: &out)
        append(#","priority":"#, to: &out)
        append(String(record.priority), to: &out)
        if let wait = record.rateLimit {
            append(#","rate_limit":{"host":"#, to: &out)
            appendString(wait.host, to: &out)
            appendDate(#","starts_at":"#, wait.startsAt, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        if let result {
            append(#","result":"#, to: &out)
            append(result, to: &out)
        }
        appendDate(#","run_at":"#, record.runAt, to: &out)
        append(#","spec":"#, to: &out)
        append(spec, to: &out)
        append(#","state":"#, to: &out)
        appendString(record.state.rawValue, to: &out)
        if let uid = record.submitterUID {
            append(#","submitter_uid":"#, to: &out)
            append(String(uid), to: &out)
        }
        appendDate(#","updated_at":"#, record.updatedAt, to: &out)
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `prefix` and the elements as a JSON array, each written by `element`.
    private static func appendArray<Element>(
        _ prefix: String, _ elements: [Element], to out: inout [UInt8],
        element: (Element, inout [UInt8]) -> Void
    ) {
        append(prefix, to: &out)
        out.append(UInt8(ascii: "["))
        for (index, item) in elements.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            element(item, &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// Appends an attempt: error, finished_at, id, node, number, outcome, started_at.
    private static func append(_ attempt: JobAttempt, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        var first = true
        if let error = attempt.error {
            append(#""error":"#, to: &out)
            append(error, to: &out)
            first = false
        }
        if let finishedAt = attempt.finishedAt {
            appendDate(first ? #""finished_at":"# : #","finished_at":"#, finishedAt, to: &out)
            first = false
        }
        append(first ? #""id":"# : #","id":"#, to: &out)
        append(String(attempt.id), to: &out)
        if let node = attempt.node {
            append(#","node":"#, to: &out)
            appendString(node, to: &out)
        }
        append(#","number":"#, to: &out)
        append(String(attempt.number), to: &out)
        append(#","outcome":"#, to: &out)
        appendString(attempt.outcome.rawValue, to: &out)
        appendDate(#","started_at":"#, attempt.startedAt, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// Appends an error: code, http_status, message.
    private static func append(_ error: JobError, to out: inout [UInt8]) {
        append(#"{"code":"#, to: &out)
        appendString(error.code.rawValue, to: &out)
        if let status = error.httpStatus {
            append(#","http_status":"#, to: &out)
            append(String(status), to: &out)
        }
        append(#","message":"#, to: &out)
        appendString(error.message, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// Appends `prefix` and the date as the encoder writes it (`RFC3339`).
    private static func appendDate(_ prefix: String, _ date: Date, to out: inout [UInt8]) {
        append(prefix, to: &out)
        appendString(RFC3339.string(from: date), to: &out)
    }
}
