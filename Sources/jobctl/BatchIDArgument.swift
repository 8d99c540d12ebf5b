import ArgumentParser
import JobdModel

/// A batch id argument: a positive integer.
struct BatchIDArgument: ExpressibleByArgument {
    var id: BatchID

    init?(argument: String) {
        guard let id = BatchID(argument) else { return nil }
        self.id = id
    }
}
