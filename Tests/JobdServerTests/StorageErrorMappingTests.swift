import JobdModel
import JobdStore
import Testing

@testable import JobdServer

/// How store failures become API answers (issue 6): each storage fault has a stable code
/// and HTTP status, and no path or SQL reaches the client. The `Retry-After` of the 503s is
/// checked end to end (`StorageFaultTests`).
@Suite struct StorageErrorMappingTests {
    @Test(
        "each store code maps to its API code and status",
        arguments: [
            (StoreError.Code.diskFull, APIError.Code.diskFull, 507),
            (.busy, .databaseBusy, 503),
            (.readOnly, .databaseUnavailable, 503),
            (.ioError, .databaseUnavailable, 503),
            (.corrupt, .databaseUnavailable, 503),
            (.badData, .internal, 500),
            (.sqlite, .internal, 500),
        ])
    func mapping(_ store: StoreError.Code, _ api: APIError.Code, _ status: Int) {
        let secret = "cannot store the jobs in /var/lib/jobd/jobd.sqlite: INSERT INTO jobs"
        let error = ErrorMiddleware<JobdRequestContext>.storageError(StoreError(store, secret, underlyingCode: "13"))
        #expect(error.code == api)
        #expect(error.httpStatus == status)
        #expect(!error.message.contains("/var/lib") && !error.message.contains("INSERT"), "\(error.message)")
    }

    @Test("an engine's refusal is 501 not_supported with the engine's advice (PostgreSQL: pg_dump)")
    func unsupported() {
        let error = ErrorMiddleware<JobdRequestContext>.storageError(
            StoreError(.unsupported, "jobd does not copy a PostgreSQL database: back it up with pg_dump"))
        #expect(error.code == .notSupported)
        #expect(error.httpStatus == 501)
        #expect(error.message.contains("pg_dump"))
    }
}
