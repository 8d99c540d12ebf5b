import Foundation
import JobdModel

/// Builders for model values used across the tests.
enum Fixtures {
    static let created = Date(timeIntervalSince1970: 1_795_000_000)

    static func record(
        id: JobID = 7,
        spec: JobSpec = JobSpec(.delay(DelaySpec(seconds: 1, value: "Data 1"))),
        state: JobState = .succeeded,
        result: JobResult? = nil,
        error: JobError? = nil,
        attempts: [JobAttempt]? = nil
    ) -> JobRecord {
        JobRecord(
            id: id, kind: spec.kind, spec: spec, state: state, priority: 0, runAt: created,
            maxAttempts: 3, attemptCount: 1, createdAt: created, updatedAt: created,
            finishedAt: state.isTerminal ? created : nil, submitterUID: 1000, result: result,
            error: error, attempts: attempts
        )
    }

    static func fetchResult(
        status: Int = 200, body: String, encoding: FetchResult.BodyEncoding = .utf8
    ) -> JobResult {
        .fetch(
            FetchResult(
                status: status, headers: [:], body: body, bodyEncoding: encoding, size: body.utf8.count,
                elapsedMs: 12.5, finalURL: "https://example.com/"
            ))
    }
}
