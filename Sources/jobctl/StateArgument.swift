import ArgumentParser
import JobdModel

/// A job state argument: `queued`, `running`, `succeeded`, `failed`, `cancelled`.
struct StateArgument: ExpressibleByArgument {
    var state: JobState

    init?(argument: String) {
        guard let state = JobState(rawValue: argument.lowercased()) else { return nil }
        self.state = state
    }

    static var allValueStrings: [String] { JobState.allCases.map(\.rawValue) }
}
