import Foundation
import JobdModel
import JobdStore

/// The column values of a finish, computed before the writer runs.
struct FinishWrite: Sendable {
    var state: JobState
    var outcome: AttemptOutcome
    var resultJSON: String?
    var jobError: JobError?
    var attemptError: JobError?
    var finishedAt: Double?
    var runAt: Double?
    var interrupted: Bool
    var now: Double

    init(end: AttemptEnd, now date: Date) throws {
        now = date.timeIntervalSince1970
        interrupted = false
        runAt = nil
        resultJSON = nil
        finishedAt = now
        switch end {
        case .succeeded(let result):
            state = .succeeded
            outcome = .succeeded
            resultJSON = try Self.encode(result)
        case .failed(let error, let result, let retryAt):
            outcome = .failed
            attemptError = error
            resultJSON = try result.map(Self.encode)
            if let retryAt {
                state = .queued
                runAt = retryAt.timeIntervalSince1970
                finishedAt = nil
            } else {
                state = .failed
                jobError = error
            }
        case .cancelled(let error):
            state = .cancelled
            outcome = .cancelled
            attemptError = error
            jobError = error
        case .interrupted(let error):
            state = .queued
            outcome = .interrupted
            attemptError = error
            interrupted = true
            finishedAt = nil
            runAt = now
        }
    }

    static func encode(_ result: JobResult) throws -> String {
        if let text = JSONText.encode(result) { return text }
        return String(decoding: try JSONCoding.makeEncoder().encode(result), as: UTF8.self)
    }
}
