import Foundation
import JobdClient
import JobdModel
import Testing

@Suite struct ResultDownloadTests {
    static let headers = ["Jobd-Job-Kind": "fetch", "Jobd-Job-State": "succeeded", "Content-Type": "text/html"]

    @Test("result reads the head first, then hands the body over chunk by chunk, byte for byte")
    func streamed() async throws {
        let body = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0) })
        let answer = FakeDaemon.Response(
            status: 200, body: Data(), headers: Self.headers,
            stream: { send in
                for start in stride(from: 0, to: body.count, by: 70_000) {
                    guard send(body[start..<min(start + 70_000, body.count)]) else { return }
                }
            })
        try await FakeDaemon.with(answer: answer) { daemon in
            let (download, received, chunks) = try await JobdClient.withClient(socketPath: daemon.socketPath) {
                client in
                let download = try await client.result(7)
                var received = Data()
                var chunks = 0
                let count = try await download.write { chunk in
                    received.append(contentsOf: chunk)
                    chunks += 1
                }
                #expect(count == body.count)
                return (download, received, chunks)
            }
            #expect(daemon.requests.map(\.uri) == ["/v1/jobs/7/result"])
            #expect(download.kind == .fetch && download.state == .succeeded && download.error == nil)
            #expect(download.contentType == "text/html")
            #expect(received == body)
            #expect(chunks > 1, "the body came in one piece")
        }
    }

    @Test("a failed job's result carries its error from the headers")
    func failedHeaders() async throws {
        var headers = Self.headers
        headers["Jobd-Job-State"] = "failed"
        headers["Jobd-Error-Code"] = "http_status"
        headers["Jobd-Error-Message"] = "the server answered 503 Service Unavailable"
        try await FakeDaemon.with(answer: .raw(200, "busy", headers: headers)) { daemon in
            let (download, text) = try await JobdClient.withClient(socketPath: daemon.socketPath) { client in
                let download = try await client.result(3)
                return (download, String(decoding: try await download.collect(upTo: 100), as: UTF8.self))
            }
            #expect(text == "busy")
            #expect(download.state == .failed)
            #expect(download.error == JobError(.httpStatus, "the server answered 503 Service Unavailable"))
        }
    }

    @Test("409 not_finished and no_result are thrown as their APIError; a body past the limit is bad_response")
    func errors() async throws {
        let refused = APIErrorResponse(error: APIError(.notFinished, "job 3 is running: it has no result yet"))
        try await FakeDaemon.with(answer: .json(409, refused)) { daemon in
            let error = await #expect(throws: APIError.self) {
                try await JobdClient.withClient(socketPath: daemon.socketPath) { client in
                    _ = try await client.result(3)
                }
            }
            #expect(error?.code == .notFinished)
        }
        try await FakeDaemon.with(answer: .raw(200, String(repeating: "x", count: 200), headers: Self.headers)) {
            daemon in
            let error = await #expect(throws: ClientError.self) {
                try await JobdClient.withClient(socketPath: daemon.socketPath) { client in
                    _ = try await client.result(3).collect(upTo: 100)
                }
            }
            #expect(error?.code == .badResponse)
        }
    }
}
