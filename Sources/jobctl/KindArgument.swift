import ArgumentParser
import JobdModel

/// A job kind argument: `fetch` or `delay`.
struct KindArgument: ExpressibleByArgument {
    var kind: JobKind

    init?(argument: String) {
        guard let kind = JobKind(rawValue: argument.lowercased()) else { return nil }
        self.kind = kind
    }

    static var allValueStrings: [String] { JobKind.allCases.map(\.rawValue) }
}
