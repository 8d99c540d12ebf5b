import Foundation
import JobdModel
import Testing

/// Redirects and denied destinations, against servers the test starts on 127.0.0.1.
///
/// The denied addresses are never contacted: the daemon refuses them before connecting,
/// which is the point of the tests (and keeps them off any network but loopback).
@Suite struct FetchPolicyTests {
    @Test("a fetch of the cloud metadata address fails blocked_destination without connecting")
    func metadataAddress() async throws {
        try await withTestDaemon { daemon in
            let output = try await daemon.jobctl([
                "submit", "fetch", "http://169.254.169.254/latest/meta-data", "--wait",
            ])
            #expect(output.status == 1, "\(output)")
            let record = try await daemon.jobctlJSON(JobRecord.self, ["status", "1"])
            #expect(record.error?.code == .blockedDestination)
            #expect(record.error?.message.contains("169.254.0.0/16") == true)
        }
    }

    @Test("a redirect from a loopback server to the metadata address fails blocked_destination")
    func redirectToMetadata() async throws {
        try await withLocalHTTPServer { server in
            try await withTestDaemon { daemon in
                let url = server.base + "/redirect?to=http://169.254.169.254/latest/meta-data"
                let output = try await daemon.jobctl(["submit", "fetch", url, "--wait"])
                #expect(output.status == 1, "\(output)")
                let record = try await daemon.jobctlJSON(JobRecord.self, ["status", "1"])
                #expect(record.error?.code == .blockedDestination)
            }
        }
    }

    @Test("a redirect is followed and the final URL recorded")
    func redirectFollowed() async throws {
        try await withLocalHTTPServer { server in
            try await withTestDaemon { daemon in
                let output = try await daemon.jobctl(["submit", "fetch", server.base + "/redirect?to=/ok", "--wait"])
                #expect(output.status == 0, "\(output)")
                let record = try await daemon.jobctlJSON(JobRecord.self, ["status", "1"])
                guard case .fetch(let result) = try #require(record.result) else {
                    Issue.record("not a fetch result")
                    return
                }
                #expect(result.finalURL == server.base + "/ok")
                #expect(result.body == "hello from the test server")
            }
        }
    }

    @Test("a redirect cycle and an endless redirect chain fail redirect_limit")
    func redirectLimit() async throws {
        try await withLocalHTTPServer { server in
            try await withTestDaemon { daemon in
                _ = try await daemon.jobctl(["submit", "fetch", server.base + "/loop", "--wait"])
                _ = try await daemon.jobctl(["submit", "fetch", server.base + "/hop/0", "--wait"])
                let cycle = try await daemon.jobctlJSON(JobRecord.self, ["status", "1"])
                let chain = try await daemon.jobctlJSON(JobRecord.self, ["status", "2"])
                #expect(cycle.error?.code == .redirectLimit)
                #expect(chain.error?.code == .redirectLimit)
                #expect(chain.error?.message.contains("more than 10 redirects") == true)
            }
        }
    }
}
