import Foundation
import JobdModel
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Fair share with real users: user A queues 100,000 jobs, then user B 100; where B's jobs
/// start among all the claims, with `scheduling.fair_share` `per_uid` and `off`.
///
/// Dispatching is paused while both submit, so every claim counted comes after B's submit:
/// a job's position in start order is its attempt's id (SQLite numbers attempts in claim
/// order, from 1 in a new database, and nothing is released here). Needs root to run
/// jobctl as two users (`AccessTests`' helpers), as AccessTests does.
@Suite(
    .serialized, .heavy,
    .enabled(
        if: geteuid() == 0 && FileManager.default.isExecutableFile(atPath: AccessTests.setpriv),
        "needs root and setpriv to run jobctl as two users"))
struct FairShareTests {
    /// Where B's 100 jobs started, 1 being the first claim after B's submit.
    static func positionsOfB(fairShare: String) async throws -> [Int64] {
        let alice = try await AccessTests.ensureUser(AccessTests.userA)
        let bob = try await AccessTests.ensureUser(AccessTests.userB)
        var positions: [Int64] = []
        let config = "socket:\n  mode: \"0666\"\nscheduling:\n  fair_share: \(fairShare)\nretention: null\n"
        try await AccessTests.withSharedDaemon(config: config) { daemon, jobctl in
            let pause = try await daemon.jobctl(["pause"])
            #expect(pause.status == 0, "\(pause)")
            // A: 100,000 delay-0 jobs, as ten batches of 10,000 (the daemon's batch cap).
            let file = daemon.directory.appendingPathComponent("a.ndjson").path
            let line = #"{"kind":"delay","seconds":0}"# + "\n"
            try Data(String(repeating: line, count: 10_000).utf8).write(to: URL(fileURLWithPath: file))
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
            for _ in 0..<10 {
                let submit = try await AccessTests.jobctl(
                    jobctl, as: alice, ["submit", "--file", file], socket: daemon.socketPath)
                #expect(submit.status == 0, "\(submit.stderr)")
            }
            // Then B: 100 jobs.
            let small = daemon.directory.appendingPathComponent("b.ndjson").path
            try Data(String(repeating: line, count: 100).utf8).write(to: URL(fileURLWithPath: small))
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: small)
            let submit = try await AccessTests.jobctl(
                jobctl, as: bob, ["submit", "--file", small], socket: daemon.socketPath)
            #expect(submit.status == 0, "\(submit.stderr)")
            let ids = submit.stdout.split(separator: "\n").map(String.init)
            try #require(ids.count == 100, "\(submit)")

            let resume = try await daemon.jobctl(["resume"])
            #expect(resume.status == 0, "\(resume)")
            let wait = try await daemon.jobctl(["wait", "--json"] + ids, timeout: .seconds(600))
            #expect(wait.status == 0, "\(wait.stderr)")
            let records = try JSONCodingForTests.decoder.decode([JobRecord].self, from: Data(wait.stdout.utf8))
            #expect(records.allSatisfy { $0.submitterUID == bob.uid && $0.state == .succeeded })
            positions = try records.map { record in
                try #require(record.attempts?.first?.id, "job \(record.id) has no attempt")
            }.sorted()
            // Stop with A's backlog still queued under per_uid: the stop must not wait for it.
            let pauseAgain = try await daemon.jobctl(["pause"])
            #expect(pauseAgain.status == 0, "\(pauseAgain)")
        }
        return positions
    }

    @Test("per_uid: every one of B's 100 jobs starts within the first 200 claims after B's submit, behind A's 100,000")
    func perUID() async throws {
        let positions = try await Self.positionsOfB(fairShare: "per_uid")
        print(
            "fair_share per_uid: B's 100 jobs started at claims \(positions.first ?? 0)…\(positions.last ?? 0) "
                + "after B's submit (median \(positions.isEmpty ? 0 : positions[positions.count / 2]))")
        #expect(positions.count == 100)
        #expect((positions.last ?? .max) <= 200, "\(positions)")
    }

    @Test("off: B's 100 jobs wait behind A's 100,000-job backlog")
    func off() async throws {
        let positions = try await Self.positionsOfB(fairShare: "off")
        print(
            "fair_share off: B's 100 jobs started at claims \(positions.first ?? 0)…\(positions.last ?? 0) "
                + "after B's submit")
        #expect(positions.count == 100)
        #expect((positions.first ?? 0) > 100_000, "\(positions.prefix(5))")
    }
}
