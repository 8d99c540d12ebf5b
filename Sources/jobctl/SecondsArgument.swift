import ArgumentParser
import JobdClient

/// A duration argument in seconds: `1.5`, `250ms`, `2m`, `1h`.
struct SecondsArgument: ExpressibleByArgument {
    var seconds: Double

    init?(argument: String) {
        guard let seconds = ArgumentText.seconds(argument) else { return nil }
        self.seconds = seconds
    }

    /// The duration, rounded up to the millisecond.
    var duration: Duration { .milliseconds(Int64((seconds * 1000).rounded(.up))) }
}
