import Foundation
import JobdModel

extension Duration {
    /// The value of a `timeout` query parameter: whole seconds where possible, else
    /// seconds with up to three decimals, rounded up to the millisecond; negative
    /// durations count as 0. For example `60`, `0.5`, `0`.
    var timeoutParameter: String {
        let milliseconds = (max(0, secondsValue) * 1000).rounded(.up)
        if milliseconds.truncatingRemainder(dividingBy: 1000) == 0 {
            return String(Int64(milliseconds / 1000))
        }
        return Self.trimmedDecimal(milliseconds / 1000, digits: 3)
    }

    /// This duration as the client's error messages name it: `30s`, `0.5s`, `1m 10s`.
    ///
    /// Below a minute, up to two decimals; from a minute on, the two largest units,
    /// rounded down; negative durations count as 0.
    var messageText: String {
        // The same text as `HumanFormat.seconds` in JobctlOutput, so that jobctl prints
        // every duration alike. It is repeated here because the client must not depend
        // on the terminal side; JobctlOutputTests checks that the two agree.
        let seconds = max(0, secondsValue)
        if seconds < 60 {
            return Self.trimmedDecimal(seconds, digits: 2) + "s"
        }
        let whole = Int(seconds)
        let (days, hours, minutes, rest) = (whole / 86_400, whole % 86_400 / 3600, whole % 3600 / 60, whole % 60)
        if days > 0 { return hours > 0 ? "\(days)d \(hours)h" : "\(days)d" }
        if hours > 0 { return minutes > 0 ? "\(hours)h \(minutes)m" : "\(hours)h" }
        return rest > 0 ? "\(minutes)m \(rest)s" : "\(minutes)m"
    }

    /// `value` with at most `digits` decimals and no trailing zeros: `1.5`, `2`, `0.25`.
    private static func trimmedDecimal(_ value: Double, digits: Int) -> String {
        var text = String(format: "%.\(digits)f", value)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text
    }
}
