import Foundation
import Hummingbird
import JobdModel
import NIOCore
import Testing

/// Issue 14, must-show 2: twenty 7 MB fetch results. `jobctl list` stays small and quick,
/// and `jobctl result ID > f` streams the body byte for byte in little memory. Takes the
/// machine for itself (`.heavy`): 140 MB of results, and a memory figure to measure.
@Suite(.heavy) struct ResultDownloadTests {
    /// The page size: 7 MiB.
    static let pageBytes = 7 * 1024 * 1024

    /// A 7 MiB HTML page of varied text (multi-byte characters, quotes and backslashes,
    /// which the stored JSON escapes), ending without a newline.
    static let page: Data = {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(pageBytes)
        var line = 0
        while bytes.count < pageBytes {
            bytes += Array(#"<p id="\#(line)">line \#(line): "quoted", back\slash, ünïcödé ✓</p>"#.utf8) + [10]
            line += 1
        }
        return Data(bytes.prefix(pageBytes - 1) + [UInt8(ascii: ">")])
    }()

    @Test("20 fetches of a 7 MB page: list is small and quick, result streams the body byte for byte in < 30 MB")
    func twentyBigResults() async throws {
        let router = Router()
        let body = Self.page
        router.get("/big") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        try await serve(router) { port in
            try await withTestDaemon(["--workers", "4"]) { daemon in
                let url = "http://127.0.0.1:\(port)/big"
                let spec = #"{"kind":"fetch","url":"\#(url)"}"#
                let file = try await daemon.jobctl(
                    ["submit", "--file", "-"], stdin: Array(repeating: spec, count: 19).joined(separator: "\n"))
                #expect(file.status == 0, "\(file)")
                let quiet = try await daemon.jobctl(["submit", "fetch", url, "-q"])
                #expect(quiet.status == 0, "\(quiet)")
                let ids = (file.stdout + quiet.stdout).split(separator: "\n").compactMap { JobID(String($0)) }
                try #require(ids.count == 20, "\(file) \(quiet)")
                let wait = try await daemon.jobctl(["wait"] + ids.map(\.description), timeout: .seconds(300))
                #expect(wait.status == 0, "\(wait)")

                // The list's answer: summaries, well under 64 KiB.
                let raw = try rawHTTP(
                    socketPath: daemon.socketPath,
                    "GET /v1/jobs HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                let listBody = httpBody(of: raw)
                #expect(raw.hasPrefix("HTTP/1.1 200"), "\(raw.prefix(200))")
                #expect(listBody.utf8.count < 64 * 1024, "GET /v1/jobs is \(listBody.utf8.count) bytes")
                let page = try JSONCodingForTests.decoder.decode(JobListResponse.self, from: Data(listBody.utf8))
                #expect(page.jobs.count == 20)
                #expect(
                    page.jobs.allSatisfy {
                        $0.result
                            == ResultSummary(
                                bytes: Self.pageBytes, contentType: "text/html; charset=utf-8", status: 200)
                    }, "\(page.jobs.first.map { "\($0)" } ?? "")")

                // jobctl list: the table as before, quick; -q the ids alone.
                let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                    "jobd-download-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: directory) }
                let listPath = directory.appendingPathComponent("list").path
                var listTimes: [Duration] = []
                var listPeak = 0
                for _ in 0..<5 {
                    let list = try await MeasuredProcess.run(
                        Binaries.jobctl, ["list", "--socket", daemon.socketPath], stdoutPath: listPath)
                    #expect(list.status == 0, "\(list)")
                    listTimes.append(list.elapsed)
                    listPeak = max(listPeak, list.peakRSSKiB)
                }
                let table = try String(contentsOfFile: listPath, encoding: .utf8).split(separator: "\n")
                #expect(table.count == 21, "\(table)")
                #expect(
                    table.first?.hasPrefix("ID  STATE      KIND   ATTEMPTS  CREATED") == true, "\(table.first ?? "")")
                #expect(table.dropFirst().allSatisfy { $0.contains("succeeded") && $0.hasSuffix(url) })
                let quietList = try await daemon.jobctl(["list", "-q"])
                #expect(quietList.stdout == ids.reversed().map { "\($0)\n" }.joined(), "\(quietList)")
                let listTime = try #require(listTimes.min())
                #expect(
                    listTime < .seconds(TimingBound.seconds(strict: 0.1, loose: 2)),
                    "jobctl list took \(listTime) at best")

                // jobctl result ID > f: byte for byte, in little memory.
                let resultPath = directory.appendingPathComponent("result").path
                let result = try await MeasuredProcess.run(
                    Binaries.jobctl, ["result", "--socket", daemon.socketPath, ids[0].description],
                    stdoutPath: resultPath)
                #expect(result.status == 0, "\(result)")
                let written = try Data(contentsOf: URL(fileURLWithPath: resultPath))
                #expect(written.count == Self.pageBytes)
                #expect(written == Self.page, "jobctl result did not reproduce the body")
                // The memory that grows with a buffered body is the heap: a client holding
                // the 7 MiB body (let alone its JSON and decoded copies) is far above 16 MiB.
                #expect(result.peakAnonKiB < 16 * 1024, "jobctl result: \(result)")
                // The whole resident set includes the binary's pages: a debug jobctl is
                // about 35 MiB before it reads a byte, so the 30 MiB bound of the issue is
                // held for other binaries (release ones, `JOBD_BIN_DIR`).
                if ProcessInfo.processInfo.environment["JOBD_BIN_DIR"] != nil {
                    #expect(result.peakRSSKiB < 30 * 1024, "jobctl result: \(result)")
                }

                // For scale: the whole record, as `jobctl status --json` reads it.
                let status = try await MeasuredProcess.run(
                    Binaries.jobctl, ["status", "--socket", daemon.socketPath, ids[0].description, "--json"],
                    stdoutPath: directory.appendingPathComponent("status").path)
                print(
                    "ResultDownloadTests: GET /v1/jobs \(listBody.utf8.count) bytes for 20 jobs of \(Self.pageBytes) bytes; "
                        + "jobctl list \(listTimes.map { "\($0)" }.joined(separator: ", ")); "
                        + "jobctl result \(result); jobctl list at most \(listPeak) KiB; "
                        + "jobctl status --json of the same job \(status)")
            }
        }
    }
}
