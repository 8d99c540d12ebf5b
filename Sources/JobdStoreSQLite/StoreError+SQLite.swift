import GRDB
import JobdStore

extension StoreError {
    /// Wraps any error thrown while talking to SQLite; a `StoreError` passes through.
    ///
    /// SQLite's primary result code picks the stable code and is kept, in decimal, as
    /// `underlyingCode`.
    init(wrapping error: any Error, context: String) {
        if let error = error as? StoreError {
            self = error
            return
        }
        guard let error = error as? DatabaseError else {
            self.init(.sqlite, "\(context): \(error)")
            return
        }
        let primary = error.resultCode
        let code: Code =
            switch primary {
            case .SQLITE_FULL: .diskFull
            case .SQLITE_BUSY, .SQLITE_LOCKED: .busy
            case .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_CANTOPEN, .SQLITE_AUTH: .readOnly
            case .SQLITE_CORRUPT, .SQLITE_NOTADB: .corrupt
            case .SQLITE_IOERR: .ioError
            default: .sqlite
            }
        self.init(code, "\(context): \(error.message ?? "\(error)")", underlyingCode: String(primary.rawValue))
    }
}
