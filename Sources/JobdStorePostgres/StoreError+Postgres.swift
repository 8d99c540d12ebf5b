import JobdStore
import PostgresNIO
import _ConnectionPoolModule

extension StoreError {
    /// Wraps an error of PostgresNIO (or a store error) with what was being done.
    ///
    /// Connection failures and a server shutting down are `unavailable`; `disk_full`,
    /// `read_only` and `busy` (serialization failure, deadlock, lock timeout) keep the
    /// SQLite engine's codes, so the server answers both engines alike.
    init(postgres error: any Error, context: String) {
        if let error = error as? StoreError {
            self = error
            return
        }
        if let error = error as? PostgresTransactionError {
            // What failed first: the closure's own error (a refused insert), else BEGIN or COMMIT.
            if let cause = error.closureError ?? error.beginError ?? error.commitError {
                self.init(postgres: cause, context: context)
                return
            }
        }
        if let error = error as? PSQLError {
            if error.code == .server, let state = error.serverInfo?[.sqlState] {
                let message = error.serverInfo?[.message] ?? "error \(state)"
                self.init(Self.code(sqlState: state), "\(context): \(message)", underlyingCode: state)
                return
            }
            self.init(.unavailable, "\(context): \(Self.describe(error))", underlyingCode: nil)
            return
        }
        if error is ConnectionPoolError {
            self.init(.unavailable, "\(context): the database cannot be reached (\(error))")
            return
        }
        if error is CancellationError {
            self.init(.unavailable, "\(context): cancelled")
            return
        }
        self.init(.postgres, "\(context): \(error)")
    }

    /// The stable code for a PostgreSQL SQLSTATE.
    static func code(sqlState: String) -> Code {
        switch sqlState {
        case "53100": .diskFull  // disk_full
        case "25006", "42501": .readOnly  // read_only_sql_transaction, insufficient_privilege
        case "40001", "40P01", "55P03": .busy  // serialization_failure, deadlock_detected, lock_not_available
        case "57P01", "57P02", "57P03", "08000", "08003", "08006", "53300": .unavailable
        default: .postgres
        }
    }

    /// A connection error in words, with the underlying cause when PostgresNIO has one.
    static func describe(_ error: PSQLError) -> String {
        if let underlying = error.underlying { return "\(error.code): \(underlying)" }
        return "\(error.code)"
    }
}
