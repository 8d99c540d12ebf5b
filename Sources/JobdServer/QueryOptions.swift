import Foundation
import Hummingbird
import HummingbirdCore
import JobdModel

/// The query parameters that several resources share: a page's `limit`, a long-poll's
/// `timeout`. Parsed in one place, so `/v1/jobs` and `/v1/batches` refuse the same way.
enum QueryOptions {
    /// `limit`: 1 to `options.maxListLimit`, default 100.
    ///
    /// - Throws: `APIError` `invalid_query` naming `limit`.
    static func limit(_ query: FlatDictionary<Substring, Substring>, options: ServerOptions) throws -> Int {
        guard let text = query.get("limit") else { return 100 }
        guard let value = Int(text), (1...options.maxListLimit).contains(value) else {
            throw APIError(.invalidQuery, "limit must be 1 to \(options.maxListLimit)", field: "limit")
        }
        return value
    }

    /// `timeout` of a long-poll, in seconds: `options.defaultWait` when absent, at most
    /// `options.maxWait`.
    ///
    /// - Throws: `APIError` `invalid_query` naming `timeout`.
    static func waitTimeout(_ query: FlatDictionary<Substring, Substring>, options: ServerOptions) throws -> Duration {
        guard let text = query.get("timeout") else { return options.defaultWait }
        guard let seconds = Double(text), seconds.isFinite, seconds >= 0 else {
            throw APIError(.invalidQuery, "timeout must be a number of seconds", field: "timeout")
        }
        return min(.nanoseconds(Int64(min(seconds, 1e6) * 1e9)), options.maxWait)
    }
}
