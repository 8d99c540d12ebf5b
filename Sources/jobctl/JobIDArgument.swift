import ArgumentParser
import JobdModel

/// A job id argument: a positive integer.
struct JobIDArgument: ExpressibleByArgument {
    var id: JobID

    init?(argument: String) {
        guard let id = JobID(argument) else { return nil }
        self.id = id
    }
}
