import Foundation
import Hummingbird
import JobdModel
import JobdRuntime
import JobdServer
import JobdStore
import JobdStoreSQLite
import Logging
import Prometheus
import Testing

/// docs/openapi.yaml against the real router and the real error codes.
@Suite struct OpenAPITests {
    static let specURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../docs/openapi.yaml").standardized

    /// `METHOD /path` for every operation in the file (Hummingbird prints `:id` as `{id}` too).
    static func documentedOperations() throws -> Set<String> {
        let text = try String(contentsOf: specURL, encoding: .utf8)
        var operations: Set<String> = []
        var path: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
            } else if !line.hasPrefix("   "), !line.hasPrefix("  /") {
                path = nil
            } else if let path, line.hasPrefix("    "), !line.hasPrefix("     "),
                let method = ["get", "post", "put", "delete", "patch"].first(where: { line == "    \($0):" })
            {
                operations.insert("\(method.uppercased()) \(path)")
            }
        }
        return operations
    }

    /// The members of a `type: string` enum schema named `name`.
    static func enumMembers(_ name: String) throws -> Set<String> {
        let text = try String(contentsOf: specURL, encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        guard let start = lines.firstIndex(of: "    \(name):") else { return [] }
        var members: Set<String> = []
        for line in lines[(start + 1)...] {
            if line.hasPrefix("        - ") {
                members.insert(String(line.dropFirst(10)))
            } else if line.hasPrefix("    "), !line.hasPrefix("     ") {
                break
            }
        }
        return members
    }

    /// The property names of the object schema named `name`.
    static func schemaProperties(_ name: String) throws -> Set<String> {
        let text = try String(contentsOf: specURL, encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        guard let start = lines.firstIndex(of: "    \(name):") else { return [] }
        var properties: Set<String> = []
        var inProperties = false
        for line in lines[(start + 1)...] {
            if line.hasPrefix("    "), !line.hasPrefix("     ") { break }
            if line.hasPrefix("      "), !line.hasPrefix("       ") {
                inProperties = line == "      properties:"
            } else if inProperties, line.hasPrefix("        "), !line.hasPrefix("         "),
                let colon = line.firstIndex(of: ":")
            {
                properties.insert(String(line[line.index(line.startIndex, offsetBy: 8)..<colon]))
            }
        }
        return properties
    }

    @Test("every key of a stats body and of a job record, rate limits included, is documented")
    func bodyKeys() throws {
        let stats = StatsResponse(
            queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0, workers: 1, maxRunning: 0, submitted: 0,
            finished: 0, commits: 0, uptimeSeconds: 0, rateLimited: 1,
            hosts: [HostFigures(host: "example.org:443", running: 1, rateLimited: 2)], databaseBytes: 4096,
            databaseFreeBytes: 0, databaseWALBytes: 0)
        let statsKeys = try #require(
            JSONSerialization.jsonObject(with: JSONCoding.makeEncoder().encode(stats)) as? [String: Any]
        ).keys
        #expect(Set(statsKeys) == (try Self.schemaProperties("StatsResponse")))
        let documented = try Self.schemaProperties("JobRecord")
        #expect(documented.contains("rate_limit"))
        #expect(try Self.schemaProperties("RateLimitWait") == ["host", "starts_at"])
        let vacuum = VacuumResponse(
            bytesBefore: 2, bytesAfter: 1, freeBytesBefore: 1, freeBytesAfter: 0, seconds: 0.5)
        let vacuumKeys = try #require(
            JSONSerialization.jsonObject(with: JSONCoding.makeEncoder().encode(vacuum)) as? [String: Any]
        ).keys
        #expect(Set(vacuumKeys) == (try Self.schemaProperties("VacuumResponse")))
    }

    @Test("every key of a job summary, its result fields included, is documented, and no more")
    func summaryKeys() throws {
        let summary = JobSummary(
            id: 1, kind: .fetch, spec: JobSpec(.fetch(FetchSpec(url: "http://x/"))), state: .failed, priority: 0,
            runAt: Date(), maxAttempts: 1, attemptCount: 1, createdAt: Date(), updatedAt: Date(), finishedAt: Date(),
            submitterUID: 1, error: JobError(.httpStatus, "x", httpStatus: 500), batchID: 2,
            result: ResultSummary(bytes: 1, contentType: "text/plain", status: 500))
        let keys = try #require(
            JSONSerialization.jsonObject(with: JSONCoding.makeEncoder().encode(summary)) as? [String: Any]
        ).keys
        #expect(Set(keys) == (try Self.schemaProperties("JobSummary")))
    }

    @Test("every route the server serves is documented, and every documented route is served")
    func routes() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "jobd-openapi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteJobStore(path: directory.appendingPathComponent("jobs.sqlite").path)
        let events = EventBroadcaster()
        let dispatcher = Dispatcher(
            store: store, executors: [:], options: RuntimeOptions(), events: events, logger: Logger(label: "test"))
        let router = APIServer.makeRouter(
            store: store, dispatcher: dispatcher, events: events, options: ServerOptions(socketPath: "/unused"),
            metrics: PrometheusCollectorRegistry())
        let served = Set(router.routes.map { "\($0.method) \($0.path)" })
        let documented = try Self.documentedOperations()
        #expect(!documented.isEmpty)
        #expect(served.subtracting(documented).isEmpty, "served but not documented: \(served.subtracting(documented))")
        #expect(documented.subtracting(served).isEmpty, "documented but not served: \(documented.subtracting(served))")
    }

    @Test("the documented error codes are exactly the API's codes")
    func errorCodes() throws {
        let codes: [APIError.Code] = [
            .invalidJSON, .unknownKind, .invalidSpec, .invalidURL, .invalidQuery, .forbidden, .unauthorized,
            .jobNotFound,
            .batchNotFound, .scheduleNotFound, .scheduleExists,
            .routeNotFound, .methodNotAllowed, .invalidState, .notFinished, .noResult, .payloadTooLarge,
            .batchTooLarge, .queueFull, .shuttingDown, .diskFull, .databaseBusy, .databaseUnavailable,
            .tooManyConnections, .notSupported, .internal,
        ]
        #expect(try Self.enumMembers("ErrorCode") == Set(codes.map(\.rawValue)))
    }

    @Test("the documented job error codes, states and kinds match the model")
    func modelEnums() throws {
        let jobCodes: [JobError.Code] = [
            .timeout, .connectFailed, .dnsFailed, .tlsFailed, .httpStatus, .bodyTooLarge, .invalidURL, .redirectLimit,
            .blockedDestination, .connectionReset, .cancelled, .interrupted, .jobFailed, .dependencyFailed, .internal,
        ]
        #expect(try Self.enumMembers("JobErrorCode") == Set(jobCodes.map(\.rawValue)))
    }
}
