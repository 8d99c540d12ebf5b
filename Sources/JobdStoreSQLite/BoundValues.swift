import Foundation
import GRDB
import GRDBSQLite

/// Statement arguments built value by value, each converted where its type is known, and
/// bound straight to SQLite by `Statement.run(bound:row:)`.
///
/// `StatementArguments([(any DatabaseValueConvertible)?])` converts every value through an
/// existential, which was a tenth of the writer thread's time in the multi-row statements
/// (docs/benchmarks.md); these appends are specialized for each concrete type. Handing the
/// values to GRDB as `StatementArguments` afterwards still cost 13 % of jobd's CPU in W1
/// (building the arguments, validating them against the statement, binding them through
/// GRDB's generic binding, clearing the bindings): the hot multi-row statements bind these
/// values with `sqlite3_bind_*` instead.
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
}

/// SQLite's "copy the bytes now" destructor (`SQLITE_TRANSIENT`, a C macro Swift cannot
/// import).
private let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

extension Statement {
    /// Runs the statement with `values` bound by `sqlite3_bind_*`, calling `row` with the
    /// statement handle for each result row (read it with `sqlite3_column_*`).
    ///
    /// For DML inside the writer's transaction only: GRDB's statement bookkeeping (database
    /// observation, its autocommit tracking) is not run, and jobd uses none of it there; a
    /// failed step throws the same `DatabaseError` GRDB would (`StoreError+SQLite` reads its
    /// result code), and the statement is reset either way, so its cached copy stays usable.
    ///
    /// - Throws: `DatabaseError`: a wrong number of values (`SQLITE_MISUSE`), or the step's error.
    func run(bound values: BoundValues, row: (SQLiteStatement) throws -> Void = { _ in }) throws {
        let handle = sqliteStatement
        sqlite3_reset(handle)  // Its result is the previous run's error, if any: not this one's.
        guard values.values.count == Int(sqlite3_bind_parameter_count(handle)) else {
            throw DatabaseError(
                resultCode: .SQLITE_MISUSE,
                message: "wrong number of statement arguments: \(values.values.count)", sql: sql)
        }
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
        for (offset, value) in values.values.enumerated() {
            let index = CInt(offset + 1)
            let code: CInt
            switch value.storage {
            case .null:
                code = sqlite3_bind_null(handle, index)
            case .int64(let integer):
                code = sqlite3_bind_int64(handle, index, integer)
            case .double(let double):
                code = sqlite3_bind_double(handle, index, double)
            case .string(var text):
                // An empty buffer may have no address, which SQLite would bind as NULL.
                code = text.withUTF8 { bytes in
                    bytes.isEmpty
                        ? sqlite3_bind_text(handle, index, "", 0, transient)
                        : sqlite3_bind_text(handle, index, bytes.baseAddress, CInt(bytes.count), transient)
                }
            case .blob(let data):
                code = data.withUnsafeBytes { bytes in
                    bytes.isEmpty
                        ? sqlite3_bind_zeroblob(handle, index, 0)
                        : sqlite3_bind_blob(handle, index, bytes.baseAddress, CInt(bytes.count), transient)
                }
            }
            guard code == SQLITE_OK else { throw error(code, handle) }
        }
        while true {
            switch sqlite3_step(handle) {
            case SQLITE_ROW: try row(handle)
            case SQLITE_DONE: return
            case let code: throw error(code, handle)
            }
        }
    }

    private func error(_ code: CInt, _ handle: SQLiteStatement) -> DatabaseError {
        DatabaseError(
            resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(sqlite3_db_handle(handle))),
            sql: sql)
    }
}
