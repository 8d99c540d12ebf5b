import ArgumentParser
import JobdModel

/// An `--on-interrupt` argument: `retry` or `fail`.
struct InterruptPolicyArgument: ExpressibleByArgument {
    var policy: InterruptPolicy

    init?(argument: String) {
        guard let policy = InterruptPolicy(rawValue: argument.lowercased()) else { return nil }
        self.policy = policy
    }

    static var allValueStrings: [String] { InterruptPolicy.allCases.map(\.rawValue) }
}
