import Foundation
import JobdModel
import Testing

/// Strict specs end to end (issue 14): a misspelt field reaches nobody's queue.
@Suite struct StrictSpecEndToEndTests {
    @Test("a spec with timout: 400 naming timout and suggesting timeout; jobctl submit --file refuses the line")
    func misspeltField() async throws {
        try await withTestDaemon { daemon in
            let body = #"{"kind":"delay","seconds":1,"timout":5}"#
            let response = try rawHTTP(
                socketPath: daemon.socketPath,
                "POST /v1/jobs HTTP/1.1\r\nHost: jobd\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
            )
            #expect(response.hasPrefix("HTTP/1.1 400"), "\(response)")
            let error = try JSONDecoder().decode(APIErrorResponse.self, from: Data(httpBody(of: response).utf8)).error
            #expect(error.code == .invalidSpec && error.field == "timout", "\(error)")
            #expect(error.message.contains("did you mean timeout?"), "\(error)")
            let file = try await daemon.jobctl(
                ["submit", "--file", "-"], stdin: #"{"kind":"delay","seconds":0}"# + "\n" + body)
            #expect(file.status != 0 && file.stderr.contains("line 2") && file.stderr.contains("timout"), "\(file)")
            let counts = try await daemon.jobctlJSON(StatsResponse.self, ["stats"])
            #expect(counts.queued + counts.succeeded + counts.running == 0, "nothing was submitted: \(counts)")
        }
    }
}
