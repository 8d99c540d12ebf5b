/// What a job does.
///
/// The raw value is the stable wire, SQL and CLI form.
public enum JobKind: String, Codable, Sendable, CaseIterable {
    /// An HTTP GET of a URL.
    case fetch
    /// Sleep, then return a value (or raise `job_failed`).
    case delay
}
