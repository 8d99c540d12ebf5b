import Foundation
import JobdModel

/// jobd refused a submit because its backlog is at `max_queued` (HTTP 429, code
/// `queue_full`); nothing was stored.
///
/// `JobdClient` throws this instead of a bare `APIError` for `queue_full`, so that the
/// answer's `Retry-After` header is not lost: submit again after `retryAfter`.
public struct QueueFullError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The API error of the answer; its code is `queue_full`.
    public var error: APIError
    /// How long jobd asked the client to wait before submitting again (the
    /// `Retry-After` header, in seconds or as an HTTP date), or nil when the answer had
    /// no valid header.
    public var retryAfter: Duration?

    /// Makes the error.
    ///
    /// - Parameters:
    ///   - error: The API error of the answer.
    ///   - retryAfter: The parsed `Retry-After`, if any.
    public init(error: APIError, retryAfter: Duration?) {
        self.error = error
        self.retryAfter = retryAfter
    }

    /// The stable code, `queue_full`.
    public var code: APIError.Code { error.code }

    /// `<message>; retry after <duration> [queue_full]`, the form `jobctl` prints after
    /// `error: `.
    public var description: String {
        guard let retryAfter else { return error.description }
        return "\(error.message); retry after \(retryAfter.messageText) [\(error.code)]"
    }

    /// Reads a `Retry-After` header value: delay seconds (`5`, `1.5`) or an HTTP date
    /// (`Wed, 25 Nov 2026 14:25:04 GMT`).
    ///
    /// - Parameters:
    ///   - value: The header's value.
    ///   - now: The time a date is measured from.
    /// - Returns: The delay, 0 or more; nil when the value is neither form.
    public static func retryAfter(parsing value: String, now: Date = Date()) -> Duration? {
        let text = value.trimmingCharacters(in: .whitespaces)
        // Clamped to a year, so that a silly value cannot overflow the conversion.
        func duration(_ seconds: Double) -> Duration {
            .milliseconds(Int64((min(max(0, seconds), 31_536_000) * 1000).rounded(.up)))
        }
        if let seconds = Double(text), seconds.isFinite {
            return duration(seconds)
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: text) else { return nil }
        return duration(date.timeIntervalSince(now))
    }
}
