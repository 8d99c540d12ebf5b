import ArgumentParser
import JobdClient
import JobdModel

/// A duration argument in seconds: `1.5`, `250ms`, `2m`, `1h`.
struct SecondsArgument: ExpressibleByArgument {
    var seconds: Double

    init?(argument: String) {
        guard let seconds = ArgumentText.seconds(argument) else { return nil }
        self.seconds = seconds
    }

    var duration: Duration { .milliseconds(Int64((seconds * 1000).rounded(.up))) }
}

/// A job id argument: a positive integer.
struct JobIDArgument: ExpressibleByArgument {
    var id: JobID

    init?(argument: String) {
        guard let id = JobID(argument) else { return nil }
        self.id = id
    }
}

/// A job state argument: `queued`, `running`, `succeeded`, `failed`, `cancelled`.
struct StateArgument: ExpressibleByArgument {
    var state: JobState

    init?(argument: String) {
        guard let state = JobState(rawValue: argument.lowercased()) else { return nil }
        self.state = state
    }

    static var allValueStrings: [String] { JobState.allCases.map(\.rawValue) }
}

/// A job kind argument: `fetch` or `delay`.
struct KindArgument: ExpressibleByArgument {
    var kind: JobKind

    init?(argument: String) {
        guard let kind = JobKind(rawValue: argument.lowercased()) else { return nil }
        self.kind = kind
    }

    static var allValueStrings: [String] { JobKind.allCases.map(\.rawValue) }
}
