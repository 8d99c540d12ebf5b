import Foundation

/// What a job list tells of a job's result: its size, content type and HTTP status,
/// never its body.
///
/// The body itself is `GET /v1/jobs/{id}/result`; `bytes` and `contentType` describe
/// exactly what that route answers.
public struct ResultSummary: Codable, Hashable, Sendable {
    /// The media type of a fetch result whose response had no `Content-Type`.
    public static let defaultFetchContentType = "application/octet-stream"
    /// The media type of a delay's value.
    public static let delayContentType = "application/json"

    /// The size in bytes of the body `GET /v1/jobs/{id}/result` answers: a fetch's
    /// response body (decoded from base64 when it was stored so), a delay's value as
    /// compact JSON.
    public var bytes: Int
    /// The body's media type: a fetch's `Content-Type` response header (or
    /// `application/octet-stream`), `application/json` for a delay.
    public var contentType: String
    /// A fetch's HTTP status code; nil for a delay.
    public var status: Int?

    /// Describes a result by its parts.
    ///
    /// - Parameters:
    ///   - bytes: The body's size in bytes.
    ///   - contentType: The body's media type.
    ///   - status: A fetch's HTTP status; nil for a delay.
    public init(bytes: Int, contentType: String, status: Int?) {
        self.bytes = bytes
        self.contentType = contentType
        self.status = status
    }

    /// Describes a result.
    ///
    /// - Parameter result: The job's result.
    public init(_ result: JobResult) {
        switch result {
        case .fetch(let fetch):
            self.init(
                bytes: fetch.size, contentType: Self.contentType(headers: fetch.headers), status: fetch.status)
        case .delay(let delay):
            self.init(bytes: JSONText.value(delay.value).utf8.count, contentType: Self.delayContentType, status: nil)
        }
    }

    /// A fetch result's media type: its `content-type` header, else
    /// `application/octet-stream`.
    ///
    /// - Parameter headers: The fetch's kept response headers (lower-cased names).
    /// - Returns: The media type to answer the body with.
    public static func contentType(headers: [String: String]) -> String {
        guard let value = headers["content-type"], !value.isEmpty else { return defaultFetchContentType }
        return value
    }

    enum CodingKeys: String, CodingKey {
        case bytes = "result_bytes"
        case contentType = "result_content_type"
        case status = "result_status"
    }
}
