/// How log lines are written.
enum LogFormat: String, Sendable, CaseIterable {
    /// `ts=… level=info msg="…" key=value`.
    case logfmt
    /// One JSON object per line.
    case json
}
