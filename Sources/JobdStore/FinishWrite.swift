import Foundation
import JobdModel

/// The column values of a finish, computed before the writer runs: the same for every
/// engine (an engine stores times in its own form).
public struct FinishWrite: Sendable {
    public var state: JobState
    public var outcome: AttemptOutcome
    public var resultJSON: String?
    public var jobError: JobError?
    public var attemptError: JobError?
    public var finishedAt: Double?
    public var runAt: Double?
    public var interrupted: Bool
    public var now: Double

    /// The columns of `end`, ended at `date`.
    ///
    /// - Throws: An encoding error of the result.
    public init(end: AttemptEnd, now date: Date) throws {
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

    /// A result as stored: its JSON text, a fetch's body last (`ResultHead` reads the
    /// rest from the first bytes).
    public static func encode(_ result: JobResult) throws -> String {
        if let text = JSONText.encode(result, bodyLast: true) { return text }
        return String(decoding: try JSONCoding.makeEncoder().encode(result), as: UTF8.self)
    }
}
