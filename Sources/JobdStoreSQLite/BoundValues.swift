import GRDB

/// Statement arguments built value by value, each converted where its type is known.
///
/// `StatementArguments([(any DatabaseValueConvertible)?])` converts every value through an
/// existential, which was a tenth of the writer thread's time in the multi-row statements
/// (docs/benchmarks.md); these appends are specialized for each concrete type.
struct BoundValues {
    private(set) var values: [DatabaseValue] = []

    init(capacity: Int) {
        values.reserveCapacity(capacity)
    }

    mutating func append(_ value: some DatabaseValueConvertible) {
        values.append(value.databaseValue)
    }

    mutating func append(_ value: (some DatabaseValueConvertible)?) {
        values.append(value?.databaseValue ?? .null)
    }

    var arguments: StatementArguments { StatementArguments(values) }
}
