/// The response headers of `GET /v1/jobs/{id}/result` that say whose body it is.
///
/// The body is the result alone, so what a client needs besides it travels in headers:
/// the job's kind and state, and for a failed job (an `http_status` failure keeps its
/// response) the error's code and message.
public enum ResultHeaders {
    /// The job's kind: `fetch` or `delay`.
    public static let kind = "Jobd-Job-Kind"
    /// The job's state: `succeeded`, or `failed` for an `http_status` failure.
    public static let state = "Jobd-Job-State"
    /// A failed job's error code (`http_status`); absent for a succeeded job.
    public static let errorCode = "Jobd-Error-Code"
    /// A failed job's error message, printable ASCII (any other byte becomes `?`);
    /// absent for a succeeded job.
    public static let errorMessage = "Jobd-Error-Message"

    /// `text` as a header value: printable ASCII only, at most 500 characters.
    ///
    /// - Parameter text: Any text.
    /// - Returns: The text with every byte outside 0x20...0x7E replaced by `?`.
    public static func headerValue(_ text: String) -> String {
        String(
            String.UnicodeScalarView(
                text.unicodeScalars.prefix(500).map { (0x20...0x7E).contains($0.value) ? $0 : "?" }))
    }
}
