import Foundation
import JobdModel
import Testing

/// Tags and key windows (issue 13) through the real jobd and the real jobctl.
@Suite(.timingSensitive) struct SharingTests {
    @Test("submit --tag and NDJSON tags; list --tag finds them newest first; status shows them; bad tags exit 2")
    func tags() async throws {
        try await withTestDaemon { daemon in
            let submit = try await daemon.jobctl(["submit", "delay", "0", "--tag", "nightly", "--tag", "team:x"])
            #expect(submit.status == 0, "\(submit)")
            let first = try #require(JobID(submit.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
            let file = try await daemon.jobctl(
                ["submit", "--file", "-"],
                stdin: #"{"kind":"delay","seconds":0,"tags":["nightly"]}"# + "\n" + #"{"kind":"delay","seconds":0}"#
                    + "\n")
            #expect(file.status == 0, "\(file)")
            let fileIDs = file.stdout.split(separator: "\n").compactMap { JobID(String($0)) }
            #expect(fileIDs.count == 2)

            let page = try await daemon.jobctlJSON(JobListResponse.self, ["list", "--tag", "nightly"])
            #expect(page.jobs.map(\.id) == [fileIDs[0], first])
            let team = try await daemon.jobctlJSON(JobListResponse.self, ["list", "--tag", "team:x"])
            #expect(team.jobs.map(\.id) == [first])
            let status = try await daemon.jobctl(["status", "\(first)"])
            #expect(status.status == 0, "\(status)")
            #expect(status.stdout.contains("tags:") && status.stdout.contains("nightly, team:x"), "\(status)")

            let badFlag = try await daemon.jobctl(["submit", "delay", "0", "--tag", "a b"])
            #expect(badFlag.status == 2, "\(badFlag)")
            #expect(badFlag.stderr.contains("--tag"), "\(badFlag)")
            let repeated = try await daemon.jobctl(["submit", "delay", "0", "--tag", "x", "--tag", "x"])
            #expect(repeated.status == 2, "\(repeated)")
            let badList = try await daemon.jobctl(["list", "--tag", "a/b"])
            #expect(badList.status == 2, "\(badList)")
            let badLine = try await daemon.jobctl(
                ["submit", "--file", "-"], stdin: #"{"kind":"delay","seconds":0,"tags":["ok","no way"]}"# + "\n")
            #expect(badLine.status == 2, "\(badLine)")
            #expect(badLine.stderr.contains("[invalid_spec]"), "\(badLine)")
        }
    }

    /// 50 `jobctl submit … --key K --key-window W` processes at once; their printed ids.
    static func submitAtOnce(_ daemon: TestDaemon, key: String, window: String) async throws -> [String] {
        try await withThrowingTaskGroup(of: ProcessOutput.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    try await daemon.jobctl(["submit", "delay", "0", "--key", key, "--key-window", window])
                }
            }
            var ids: [String] = []
            for try await output in group {
                #expect(output.status == 0, "\(output)")
                ids.append(output.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            return ids
        }
    }

    @Test(
        "50 concurrent submits of one key within its window make one job; once a window passed, 50 more make one more"
    )
    func keyWindow() async throws {
        try await withTestDaemon { daemon in
            // A window far longer than 50 launches of jobctl take on a loaded machine.
            let first = try await Self.submitAtOnce(daemon, key: "report", window: "60")
            #expect(Set(first).count == 1, "every submit answers the one job: \(Set(first))")
            let id = try #require(first.first)
            let record = try await daemon.jobctlJSON(JobRecord.self, ["status", id])
            #expect(record.spec.keyWindow == 60)

            // A key whose 1 s window passed: 50 concurrent submits race to take it over, and
            // one new job wins. The window ends at a known instant, read from the job's own
            // record: wait for it, then submit.
            let old = try await daemon.jobctl(["submit", "delay", "0", "--key", "rollover", "--key-window", "1"])
            let oldID = old.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let oldRecord = try await daemon.jobctlJSON(JobRecord.self, ["status", oldID])
            let windowEnd = oldRecord.createdAt.addingTimeInterval(1)
            while Date() <= windowEnd { try await Task.sleep(for: .milliseconds(20)) }
            let second = try await Self.submitAtOnce(daemon, key: "rollover", window: "60")
            #expect(Set(second).count == 1, "every submit answers the one new job: \(Set(second))")
            #expect(second.first != oldID, "the window passed: a new job took the key")

            let page = try await daemon.jobctlJSON(JobListResponse.self, ["list"])
            #expect(page.jobs.map(\.id.description) == [try #require(second.first), oldID, id])

            let noKey = try await daemon.jobctl(["submit", "delay", "0", "--key-window", "5"])
            #expect(noKey.status == 2, "\(noKey)")
            #expect(noKey.stderr.contains("--key-window"), "\(noKey)")
        }
    }
}
