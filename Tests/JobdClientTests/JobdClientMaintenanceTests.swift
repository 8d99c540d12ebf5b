import Foundation
import JobdClient
import JobdModel
import Testing

/// The maintenance routes of the client: a backup written atomically as the caller, and
/// vacuum.
@Suite("JobdClient maintenance")
struct JobdClientMaintenanceTests {
    static let database = Data("SQLite format 3\u{0}".utf8) + Data(repeating: 7, count: 300_000)
    static let databaseHeaders = ["Content-Type": "application/vnd.sqlite3"]

    /// Runs `body` with a fresh directory, removed afterwards.
    static func withDirectory(_ body: (String) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "jobd-client-backup-\(UUID().uuidString)"
        ).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await body(directory)
    }

    @Test("backup writes the answer to FILE through FILE.partial, mode 0600, replacing an older FILE")
    func backupWrites() async throws {
        let answer = FakeDaemon.Response(status: 200, body: Self.database, headers: Self.databaseHeaders)
        try await FakeDaemon.with(answer: answer) { daemon in
            try await Self.withDirectory { directory in
                let file = directory + "/jobd.sqlite"
                try Data("yesterday".utf8).write(to: URL(fileURLWithPath: file))
                let report = try await JobdClient.withClient(socketPath: daemon.socketPath) { client in
                    try await client.backup(to: file)
                }
                #expect(report.file == file && report.bytes == Int64(Self.database.count) && report.seconds >= 0)
                #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == Self.database)
                #expect(!FileManager.default.fileExists(atPath: file + ".partial"))
                let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
                #expect(mode == 0o600)
                #expect(daemon.requests.map { "\($0.method) \($0.uri)" } == ["POST /v1/backup"])
            }
        }
    }

    @Test("a refused backup throws the API's error (not_supported) and leaves FILE as it was, no .partial")
    func backupRefused() async throws {
        let refusal = APIErrorResponse(error: APIError(.notSupported, "back it up with pg_dump"))
        try await FakeDaemon.with(answer: .json(501, refusal)) { daemon in
            try await Self.withDirectory { directory in
                let file = directory + "/jobd.sqlite"
                try Data("yesterday".utf8).write(to: URL(fileURLWithPath: file))
                let error = await #expect(throws: APIError.self) {
                    try await JobdClient.withClient(socketPath: daemon.socketPath) { client in
                        try await client.backup(to: file)
                    }
                }
                #expect(error?.code == .notSupported && error?.message.contains("pg_dump") == true)
                #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == Data("yesterday".utf8))
                #expect(!FileManager.default.fileExists(atPath: file + ".partial"))
            }
        }
    }

    @Test("an answer that is not a database, or one cut short, fails and leaves no file")
    func backupBroken() async throws {
        let notDatabase = FakeDaemon.Response.raw(200, "{}")
        // Declares more bytes than it sends, then closes.
        let cutShort = FakeDaemon.Response(
            status: 200, body: Data(),
            headers: Self.databaseHeaders.merging(["Content-Length": "300016"]) { _, new in new },
            stream: { send in _ = send(Self.database.prefix(1000)) })
        for answer in [notDatabase, cutShort] {
            try await FakeDaemon.with(answer: answer) { daemon in
                try await Self.withDirectory { (directory: String) async throws -> Void in
                    let file = directory + "/jobd.sqlite"
                    await #expect(throws: (any Error).self) {
                        try await JobdClient.withClient(socketPath: daemon.socketPath) { client in
                            try await client.backup(to: file)
                        }
                    }
                    let left: [String] = try FileManager.default.contentsOfDirectory(atPath: directory)
                    #expect(left.isEmpty, "\(left)")
                }
            }
        }
    }

    @Test("vacuum posts to /v1/vacuum and decodes the sizes")
    func vacuum() async throws {
        let answer = VacuumResponse(
            bytesBefore: 4096 * 10, bytesAfter: 4096 * 4, freeBytesBefore: 4096 * 6, freeBytesAfter: 0, seconds: 0.1)
        try await FakeDaemon.with(answer: .json(200, answer)) { daemon in
            let decoded = try await JobdClient.withClient(socketPath: daemon.socketPath) { client in
                try await client.vacuum()
            }
            #expect(decoded == answer)
            #expect(daemon.requests.map { "\($0.method) \($0.uri)" } == ["POST /v1/vacuum"])
        }
    }
}
